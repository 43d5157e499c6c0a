/**
 * Denormal and NaN guard for feedback state.
 *
 * Usage: `this.z1 = flushDenormal(this.z1)` once per block on every recursive state variable
 * (filters, integrators, delay feedback). Thread: any; allocation-free, safe in `process`.
 */

/** Below this magnitude (about -400 dB) a state value is treated as silence. */
export const DENORMAL_THRESHOLD = 1e-20;

/**
 * Returns `x`, or 0 when `|x| < 1e-20` or `x` is NaN (so a NaN that slipped into a feedback path is
 * cleared instead of poisoning every later sample). ±Infinity is passed through: the next operation
 * on it yields NaN, which the following call clears.
 */
export function flushDenormal(x: number): number {
  return x > DENORMAL_THRESHOLD || x < -DENORMAL_THRESHOLD ? x : 0;
}

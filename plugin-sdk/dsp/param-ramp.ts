/**
 * Reading kernel-smoothed parameters in chunks. While a parameter is moving the kernel hands out a
 * linear ramp across the span (`p.next()` adds one step per sample), so a plugin that processes a
 * moving span in chunks of `RAMP_CHUNK` samples can take each chunk's end value with
 * `advanceParam(p, n)` (or `skipParam(p, n)` then `p.value`) and ramp its gains linearly inside the
 * chunk: the result is exactly what calling `p.next()` per sample would give, at a fraction of the
 * coefficient work.
 *
 * Usage (in `process`):
 *
 *     if (!a.moving && !b.moving) { dsp.setParams(a.value, b.value); dsp.process(...start, end); return; }
 *     for (let s = start; s < end; s += RAMP_CHUNK) {
 *       const e = s + RAMP_CHUNK < end ? s + RAMP_CHUNK : end;
 *       dsp.setParams(advanceParam(a, e - s), advanceParam(b, e - s));
 *       dsp.process(...s, e);
 *     }
 *
 * `skipParam` returns nothing: V8 boxes a number returned from a call it did not inline (a heap
 * allocation on the audio thread), which in a large caller, out of inlining budget, happens to
 * `advanceParam` and to `Param.advance` behind it; `Param.fill` returns nothing either.
 *
 * Thread: allocation-free; safe in `process`.
 */

/** The part of a kernel `Param` these helpers use. */
export interface RampParam {
  readonly value: number;
  readonly moving: boolean;
  advance(n: number): number;
  fill(out: Float64Array, start: number, end: number): void;
}

/** Chunk length (samples) for parameter ramps while something moves: 0.67 ms at 48 kHz. */
export const RAMP_CHUNK = 32;

/** Advances `p` by `n` samples (only while it moves) and returns its value after them. */
export function advanceParam(p: RampParam, n: number): number {
  return p.moving ? p.advance(n) : p.value;
}

/** Where `skipParam` lets the parameter write the values it steps through (never read). */
const skipped = new Float64Array(RAMP_CHUNK);

/** Advances `p` by `n` samples (only while it moves); its value after them is then `p.value`. */
export function skipParam(p: RampParam, n: number): void {
  if (!p.moving) return;
  for (let k = n; k > 0; k -= RAMP_CHUNK) p.fill(skipped, 0, k < RAMP_CHUNK ? k : RAMP_CHUNK);
}

/**
 * The one clamp (kernel and plugins alike). Thread: any; allocation-free.
 *
 * Usage: `clamp(x, 0, 1)`. A value below `lo` — or NaN, which compares false with everything — gives
 * `lo`; above `hi` gives `hi`; ±Infinity land on the nearer bound. So a clamped value is always in
 * range, never NaN: a NaN that reached a parameter or a filter state would poison every sample after it.
 * (`Math.min(hi, Math.max(lo, x))` is not the same: it passes NaN through.) Assumes lo ≤ hi.
 */
export function clamp(x: number, lo: number, hi: number): number {
  return x >= lo ? (x > hi ? hi : x) : lo;
}

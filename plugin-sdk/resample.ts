/**
 * Sample-rate conversion of a whole signal, for control halves (plugin-sdk): `resample(input, from,
 * to)` returns a new array at `to` Hz. A windowed-sinc interpolator (Kaiser, β = 8.6, 32 zero
 * crossings a side, read from a table with linear interpolation between its points). Measured
 * (44.1 ↔ 48 kHz, 96 → 48 kHz): flat within 0.3 dB to 0.43 × the lower rate, −6 dB at 0.455 ×,
 * and what lies beyond the lower rate's Nyquist frequency (images, aliases) at least 85 dB down.
 * Going down in rate the kernel is widened, so what the new rate cannot hold is filtered out, not
 * folded back.
 *
 * Runs on the control thread: it allocates, and a second of audio takes 50–80 ms.
 * Output frame j is the input at time j · from / to, so the first sample stays where it was.
 */
import { besselI0 } from './dsp/blep.ts';

/** Zero crossings on each side of the kernel's centre. */
const ZEROS = 32;
/** Table points per zero crossing. */
const STEPS = 512;
const BETA = 8.6;
/** Cutoff relative to the lower Nyquist frequency: room for the transition band. */
const CUTOFF = 0.91;

let table: Float64Array | null = null;

/** sinc(t) · kaiser(t / ZEROS) at t = i / STEPS, for i in [0, ZEROS · STEPS], plus a zero past the end. */
function kernelTable(): Float64Array {
  if (table) return table;
  const n = ZEROS * STEPS;
  const t = new Float64Array(n + 2);
  const norm = besselI0(BETA);
  for (let i = 0; i <= n; i++) {
    const x = i / STEPS;
    const sinc = i === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const u = x / ZEROS;
    t[i] = (sinc * besselI0(BETA * Math.sqrt(Math.max(0, 1 - u * u)))) / norm;
  }
  table = t;
  return t;
}

/** `input` (at `fromRate` Hz) at `toRate` Hz: a new array of ceil(length · to / from) samples. */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(fromRate > 0) || !(toRate > 0)) throw new RangeError(`resample: rates must be positive (found ${fromRate} → ${toRate})`);
  if (fromRate === toRate) return input.slice();
  const h = kernelTable();
  const n = input.length;
  const outLength = Math.ceil((n * toRate) / fromRate);
  const out = new Float32Array(outLength);
  const step = fromRate / toRate;
  // Cutoff as a fraction of the input's Nyquist: below 1 when going down in rate.
  const fc = Math.min(1, toRate / fromRate) * CUTOFF;
  const reach = ZEROS / fc;
  const scale = fc * STEPS;
  for (let j = 0; j < outLength; j++) {
    const x = j * step;
    const first = Math.max(0, Math.ceil(x - reach));
    const last = Math.min(n - 1, Math.floor(x + reach));
    let sum = 0;
    for (let i = first; i <= last; i++) {
      const pos = Math.abs(x - i) * scale;
      const k = pos | 0;
      if (k >= ZEROS * STEPS) continue;
      const f = pos - k;
      sum += input[i] * (h[k] + (h[k + 1] - h[k]) * f);
    }
    out[j] = sum * fc;
  }
  return out;
}

/**
 * 2× oversampling with a polyphase IIR half-band filter (two parallel chains of first-order
 * allpasses in z⁻², Valenzuela & Constantinides 1983; coefficient design after Laurent de Soras'
 * HIIR: elliptic half-band from a coefficient count and a transition bandwidth).
 *
 *     H(z) = ½ · (A0(z²) + z⁻¹ · A1(z²)),   A(z) = Π (a_k + z⁻¹) / (1 + a_k z⁻¹)
 *
 * Even-indexed coefficients form one path, odd-indexed the other. Each allpass costs one multiply,
 * so `count` coefficients cost `count` multiplies per input sample for the upsampler and the same
 * for the downsampler. Phase is not linear (about 2–4 samples of group delay at low frequencies
 * with the default design), which is fine in a distortion path.
 *
 * The default design (`OVERSAMPLER_COEFS`: 6 coefficients, transition 0.08 of the oversampled rate)
 * is flat (±0.001 dB) from 0 to 20.2 kHz at 48 kHz and attenuates images and aliases from 27.8 kHz
 * up by about 95 dB (theory: `halfbandAttenuationDb(6, 0.08)` = 94.9 dB; measured in
 * test/plugins/distortion.test.ts). Only what lands in 20.2–24 kHz is left unattenuated.
 *
 * Usage (create): `const up = new Upsampler2x(); const down = new Downsampler2x();`
 * per block: `up.processBlock(input, start, end, x2)` writes 2·(end−start) samples to
 * `x2[0 ..)`; process them; then `down.processBlock(x2, out, start, end)` reads `x2[0 ..)` back.
 *
 * Thread: constructors and `halfbandCoefficients` allocate (create time); `processBlock`,
 * `reset` are allocation-free and safe in `process`; `getState`/`setState` between blocks.
 */
import { flushDenormal } from './denormal.ts';

/**
 * Half-band coefficients for `count` allpass sections and a transition band `transition`
 * (a fraction of the oversampled rate, 0 < transition < 0.5): the stopband attenuation is the
 * largest the order allows. Allocates.
 */
export function halfbandCoefficients(count: number, transition: number): Float64Array {
  // Elliptic design parameters from the transition width (modulus k, nome q).
  let k = Math.tan(((1 - transition * 2) * Math.PI) / 4);
  k *= k;
  const kk = Math.pow(1 - k * k, 0.25);
  const e = (0.5 * (1 - kk)) / (1 + kk);
  const e4 = e * e * e * e;
  const q = e * (1 + e4 * (2 + e4 * (15 + 150 * e4)));
  const order = count * 2 + 1;
  const out = new Float64Array(count);
  for (let index = 0; index < count; index++) {
    const c = index + 1;
    // Theta-function series for the pole positions.
    let num = 0;
    for (let i = 0, sign = 1; ; i++, sign = -sign) {
      const t = Math.pow(q, i * (i + 1)) * Math.sin(((i * 2 + 1) * c * Math.PI) / order) * sign;
      num += t;
      if (Math.abs(t) <= 1e-100) break;
    }
    let den = 0;
    for (let i = 1, sign = -1; ; i++, sign = -sign) {
      const t = Math.pow(q, i * i) * Math.cos((i * 2 * c * Math.PI) / order) * sign;
      den += t;
      if (Math.abs(t) <= 1e-100) break;
    }
    const ww = (num * Math.pow(q, 0.25)) / (den + 0.5);
    const wwsq = ww * ww;
    const x = Math.sqrt((1 - wwsq * k) * (1 - wwsq / k)) / (1 + wwsq);
    out[index] = (1 - x) / (1 + x);
  }
  return out;
}

/** Theoretical stopband attenuation (dB) of `halfbandCoefficients(count, transition)`. */
export function halfbandAttenuationDb(count: number, transition: number): number {
  let k = Math.tan(((1 - transition * 2) * Math.PI) / 4);
  k *= k;
  const kk = Math.pow(1 - k * k, 0.25);
  const e = (0.5 * (1 - kk)) / (1 + kk);
  const e4 = e * e * e * e;
  const q = e * (1 + e4 * (2 + e4 * (15 + 150 * e4)));
  const a = 4 * Math.exp((count * 2 + 1) * 0.5 * Math.log(q));
  return -10 * Math.log10(a / (1 + a));
}

/** The default design, shared by every instance (6 sections, transition 0.08 ≈ 95 dB). */
export const OVERSAMPLER_COEFS: Float64Array = halfbandCoefficients(6, 0.08);

export interface HalfbandState {
  x: number[];
  y: number[];
}

/** Allpass chain state and coefficients shared by the up- and downsampler. */
export abstract class HalfbandChain {
  protected readonly coefs: Float64Array;
  /** Previous input and output of each allpass section. */
  readonly x: Float64Array;
  readonly y: Float64Array;

  constructor(coefs: Float64Array = OVERSAMPLER_COEFS) {
    if (coefs.length < 2 || (coefs.length & 1) !== 0) throw new Error(`oversampler: need an even number (≥ 2) of coefficients, got ${coefs.length}`);
    this.coefs = Float64Array.from(coefs);
    this.x = new Float64Array(coefs.length);
    this.y = new Float64Array(coefs.length);
  }

  reset(): void {
    this.x.fill(0);
    this.y.fill(0);
  }

  protected flush(): void {
    const x = this.x;
    const y = this.y;
    for (let i = 0; i < x.length; i++) {
      x[i] = flushDenormal(x[i]);
      y[i] = flushDenormal(y[i]);
    }
  }

  /** Takes `other`'s filter memory (same design). Allocation-free. */
  copyFrom(other: HalfbandChain): void {
    this.x.set(other.x);
    this.y.set(other.y);
  }

  /** The largest difference between this chain's memory and `other`'s. Allocation-free. */
  distance(other: HalfbandChain): number {
    let m = 0;
    for (let i = 0; i < this.x.length; i++) {
      const a = Math.abs(this.x[i] - other.x[i]);
      const b = Math.abs(this.y[i] - other.y[i]);
      if (a > m) m = a;
      if (b > m) m = b;
    }
    return m;
  }

  /** Plain JSON (between blocks). */
  getState(): HalfbandState {
    return { x: Array.from(this.x), y: Array.from(this.y) };
  }

  /** Restores `getState()` output; ignores anything that does not fit. */
  setState(state: unknown): void {
    const s = state as Partial<HalfbandState> | null;
    if (s === null || typeof s !== 'object') return;
    copyFinite(s.x, this.x);
    copyFinite(s.y, this.y);
  }
}

function copyFinite(from: unknown, to: Float64Array): void {
  if (!Array.isArray(from) && !ArrayBuffer.isView(from)) return;
  const a = from as ArrayLike<unknown>;
  if (a.length !== to.length) return;
  for (let i = 0; i < to.length; i++) {
    const v = a[i];
    to[i] = typeof v === 'number' && Number.isFinite(v) ? v : 0;
  }
}

/** Doubles the sample rate: each input sample becomes two output samples (image-filtered). */
export class Upsampler2x extends HalfbandChain {
  /**
   * Writes 2·(end−start) samples into `out[outStart ..)` from `input[start..end)`. Allocation-free.
   */
  processBlock(input: Float32Array | Float64Array, start: number, end: number, out: Float32Array | Float64Array, outStart = 0): void {
    const c = this.coefs;
    const xs = this.x;
    const ys = this.y;
    const n = c.length;
    let o = outStart;
    for (let i = start; i < end; i++) {
      let even = input[i];
      let odd = even;
      for (let s = 0; s < n; s += 2) {
        const t0 = (even - ys[s]) * c[s] + xs[s];
        const t1 = (odd - ys[s + 1]) * c[s + 1] + xs[s + 1];
        xs[s] = even;
        xs[s + 1] = odd;
        ys[s] = t0;
        ys[s + 1] = t1;
        even = t0;
        odd = t1;
      }
      out[o] = even;
      out[o + 1] = odd;
      o += 2;
    }
    this.flush();
  }
}

/** Halves the sample rate: each pair of input samples becomes one output sample (anti-alias filtered). */
export class Downsampler2x extends HalfbandChain {
  /** Reads 2·(end−start) samples from `input[inStart ..)` and writes `out[start..end)`. Allocation-free. */
  processBlock(input: Float32Array | Float64Array, out: Float32Array | Float64Array, start: number, end: number, inStart = 0): void {
    const c = this.coefs;
    const xs = this.x;
    const ys = this.y;
    const n = c.length;
    let k = inStart;
    for (let i = start; i < end; i++) {
      let a = input[k + 1];
      let b = input[k];
      for (let s = 0; s < n; s += 2) {
        const t0 = (a - ys[s]) * c[s] + xs[s];
        const t1 = (b - ys[s + 1]) * c[s + 1] + xs[s + 1];
        xs[s] = a;
        xs[s + 1] = b;
        ys[s] = t0;
        ys[s + 1] = t1;
        a = t0;
        b = t1;
      }
      out[i] = 0.5 * (a + b);
      k += 2;
    }
    this.flush();
  }
}

/**
 * Measurement helpers for offline DSP tests (allocate freely; never on the audio thread).
 */
import { powerSpectrum } from './fft.ts';

/** Times (in samples, sub-sample by linear interpolation) of the upward zero crossings of x[from..to). */
export function upwardCrossings(x: ArrayLike<number>, from = 0, to = x.length): number[] {
  const out: number[] = [];
  for (let i = Math.max(1, from); i < to; i++) {
    const a = x[i - 1];
    const b = x[i];
    if (a < 0 && b >= 0) out.push(i - 1 + a / (a - b));
  }
  return out;
}

/**
 * Frequency (Hz) from the upward zero crossings of x[from..to): the slope of a least-squares line
 * through crossing time against crossing number (robust to the error of any single crossing).
 */
export function frequencyByCrossings(x: ArrayLike<number>, sampleRate: number, from = 0, to = x.length): number {
  const t = upwardCrossings(x, from, to);
  const n = t.length;
  if (n < 3) return NaN;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let k = 0; k < n; k++) {
    sx += k;
    sy += t[k];
    sxx += k * k;
    sxy += k * t[k];
  }
  const period = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return sampleRate / period;
}

/** Pitch difference in cents. */
export function cents(measured: number, expected: number): number {
  return 1200 * Math.log2(measured / expected);
}

/** RMS of x[from..to). */
export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}

/** Largest |x[i]| over x[from..to). */
export function peak(x: ArrayLike<number>, from = 0, to = x.length): number {
  let m = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(x[i]);
    if (a > m || a !== a) m = a !== a ? Infinity : a;
  }
  return m;
}

/** Largest |x[i] − x[i−1]| over x[from..to). */
export function maxStep(x: ArrayLike<number>, from = 1, to = x.length): number {
  let m = 0;
  for (let i = Math.max(1, from); i < to; i++) m = Math.max(m, Math.abs(x[i] - x[i - 1]));
  return m;
}

/** Least-squares slope of y against x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let k = 0; k < n; k++) {
    sx += xs[k];
    sy += ys[k];
    sxx += xs[k] * xs[k];
    sxy += xs[k] * ys[k];
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/** Renders `total` samples by calling `block(out, start, end)` in blocks of `blockSize` over one buffer. */
export function renderBlocks(total: number, blockSize: number, block: (out: Float32Array, start: number, end: number) => void): Float32Array {
  const out = new Float32Array(total);
  for (let s = 0; s < total; s += blockSize) block(out, s, Math.min(total, s + blockSize));
  return out;
}

// ───────────── effect measurements (THD, DC, decay time, correlation) ─────────────


/** 20·log10(|v|), with silence at -Infinity. */
export function dbfs(v: number): number {
  return 20 * Math.log10(Math.abs(v));
}

/** Mean (the DC component) of x[from..to). */
export function mean(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i];
  return s / (to - from);
}

export interface ThdReport {
  /** Power of the fundamental and of harmonics 2..count (each summed over its window lobe). */
  fundamental: number;
  harmonics: number;
  /** sqrt(harmonics / fundamental) — THD as an amplitude ratio — and the same in dB. */
  ratio: number;
  db: number;
}

/**
 * Total harmonic distortion of a steady tone of `f0` Hz in x[offset .. offset+n) (n a power of two),
 * from a Blackman-Harris power spectrum: harmonics 2..`count` below Nyquist, each summed over ±6 bins.
 */
export function thd(x: ArrayLike<number>, sampleRate: number, f0: number, offset: number, n = 32768, count = 20): ThdReport {
  const spec = powerSpectrum(x, offset, n);
  const lobe = (hz: number): number => {
    const c = Math.round((hz * n) / sampleRate);
    let s = 0;
    for (let k = Math.max(0, c - 6); k <= Math.min(spec.length - 1, c + 6); k++) s += spec[k];
    return s;
  };
  const fundamental = lobe(f0);
  let harmonics = 0;
  for (let h = 2; h <= count && h * f0 < sampleRate / 2 - 6 * (sampleRate / n); h++) harmonics += lobe(h * f0);
  const ratio = Math.sqrt(harmonics / fundamental);
  return { fundamental, harmonics, ratio, db: 20 * Math.log10(ratio) };
}

/**
 * Schroeder energy decay curve of an impulse response h[from..to): EDC[i] = Σ_{j≥i} h[j]², in dB
 * relative to the total (0 dB at the start).
 */
export function energyDecayDb(h: ArrayLike<number>, from = 0, to = h.length): Float64Array {
  const n = to - from;
  const edc = new Float64Array(n);
  let acc = 0;
  for (let i = n - 1; i >= 0; i--) {
    const v = h[from + i];
    acc += v * v;
    edc[i] = acc;
  }
  const total = edc[0];
  for (let i = 0; i < n; i++) edc[i] = 10 * Math.log10(edc[i] / total);
  return edc;
}

/**
 * RT60 (seconds) of an impulse response by Schroeder backward integration: a least-squares line
 * through the energy decay curve between `hiDb` and `loDb` (default −5 … −25 dB, i.e. T20),
 * extrapolated to −60 dB.
 */
export function rt60(h: ArrayLike<number>, sampleRate: number, from = 0, to = h.length, hiDb = -5, loDb = -25): number {
  const edc = energyDecayDb(h, from, to);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < edc.length; i++) {
    if (edc[i] <= hiDb && edc[i] >= loDb) {
      xs.push(i / sampleRate);
      ys.push(edc[i]);
    }
  }
  if (xs.length < 2) return NaN;
  return -60 / slope(xs, ys);
}

/** Normalised cross-correlation of a and b over [from, to) at lag 0 (b shifted by `lag` samples). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length, lag = 0): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = from; i < to; i++) {
    const x = a[i];
    const y = b[i + lag];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Index of the largest |x[i]| in [from, to). */
export function argPeak(x: ArrayLike<number>, from = 0, to = x.length): number {
  let best = from;
  for (let i = from; i < to; i++) if (Math.abs(x[i]) > Math.abs(x[best])) best = i;
  return best;
}

/** Σ x² over [from, to). */
export function energy(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return s;
}

/** How far `x` differs from `reference`: the energy of the difference over the reference's, in dB. */
export function differenceDb(x: ArrayLike<number>, reference: ArrayLike<number>): number {
  let err = 0;
  let sig = 0;
  for (let i = 0; i < reference.length; i++) {
    err += (x[i] - reference[i]) ** 2;
    sig += reference[i] ** 2;
  }
  return 10 * Math.log10(err / sig);
}

/**
 * Eight-band spectrum of recent output for `/viz/spectrum` (control thread, never the audio thread: it allocates), in one of two forms
 * (config `plugins.viz.spectrum`); a library of the SDK, used by the viz plugin:
 * - `legacy` (default): what the old engine sent and its visualiser labels — bands centred on 63, 125,
 *   250, 500, 1k, 2k, 4k and 8k Hz, each a 2nd-order band-pass with Q 2 (pyo `ButBP`) followed by a
 *   level follower (mean absolute value), ×50 and clamped to 1;
 * - `raw`: the RMS amplitude of eight adjacent bands from 20 Hz to 20 kHz (a loud mix reads 0.03–0.13).
 * Both come from one Hann-windowed FFT of the last FFT_SIZE samples.
 */

export const BAND_EDGES_HZ = [20, 60, 150, 400, 1000, 2500, 6000, 12000, 20000];
/** The old engine's band centres (Hz). */
export const LEGACY_CENTRES_HZ = [63, 125, 250, 500, 1000, 2000, 4000, 8000];
/** The old engine's band-pass Q (centre / bandwidth). */
export const LEGACY_Q = 2;
/** The old engine's display gain on each band's follower level (then clamped to 1). */
export const LEGACY_GAIN = 50;
/** A follower's mean |x| of a sinusoid over its RMS: 2√2/π. */
const MEAN_ABS_PER_RMS = (2 * Math.SQRT2) / Math.PI;
export const FFT_SIZE = 2048;

export type SpectrumForm = 'legacy' | 'raw';

/** In-place radix-2 FFT of `re`/`im` (length a power of two). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const ar = re[i + k + len / 2];
        const ai = im[i + k + len / 2];
        const tr = ar * wr - ai * wi;
        const ti = ar * wi + ai * wr;
        re[i + k + len / 2] = re[i + k] - tr;
        im[i + k + len / 2] = im[i + k] - ti;
        re[i + k] += tr;
        im[i + k] += ti;
      }
    }
  }
}

/** Power of each FFT bin 0 … n/2 − 1 of the last FFT_SIZE samples of `mono`, Hann-windowed. */
function binPowers(mono: Float64Array): Float64Array {
  const n = FFT_SIZE;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = mono[i] * 0.5 * (1 - Math.cos((2 * Math.PI * i) / (n - 1)));
  fft(re, im);
  const power = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) power[k] = re[k] * re[k] + im[k] * im[k];
  return power;
}

/** Parseval over some bins, one-sided (×2), divided by the Hann window's energy (3n/8 per sample): an RMS amplitude. */
function rmsOf(power: number): number {
  const n = FFT_SIZE;
  return Math.sqrt((2 * power) / (n * ((3 * n) / 8)));
}

/**
 * RMS amplitude per band of the last FFT_SIZE samples of `mono` (Hann window, energy-corrected: a
 * full-scale sine reads about 0.707 in its band). Bands lie between consecutive `edgesHz`
 * (default BAND_EDGES_HZ, the eight of `raw`); each takes at least one FFT bin, so narrow low bands
 * read the bin they fall in.
 */
export function bandLevels(mono: Float64Array, sampleRate: number, edgesHz: readonly number[] = BAND_EDGES_HZ): number[] {
  const n = FFT_SIZE;
  const power = binPowers(mono);
  const levels: number[] = [];
  for (let b = 0; b + 1 < edgesHz.length; b++) {
    const lo = Math.min(n / 2 - 1, Math.max(1, Math.floor((edgesHz[b] * n) / sampleRate)));
    const hi = Math.min(n / 2, Math.max(lo + 1, Math.ceil((edgesHz[b + 1] * n) / sampleRate)));
    let sum = 0;
    for (let k = lo; k < hi; k++) sum += power[k];
    levels.push(rmsOf(sum));
  }
  return levels;
}

/** `count + 1` band edges spaced evenly on a log scale from `loHz` to `hiHz` (for `bandLevels`). */
export function logBandEdges(count: number, loHz: number, hiHz: number): number[] {
  const edges: number[] = [];
  for (let i = 0; i <= count; i++) edges.push(loHz * (hiHz / loHz) ** (i / count));
  return edges;
}

/** |H(f)|² of a 2nd-order band-pass at `centre` with quality `q`, per FFT bin (cached per sample rate). */
const weightCache = new Map<number, Float64Array[]>();
function legacyWeights(sampleRate: number): Float64Array[] {
  let weights = weightCache.get(sampleRate);
  if (weights) return weights;
  weights = LEGACY_CENTRES_HZ.map((centre) => {
    const w = new Float64Array(FFT_SIZE / 2);
    for (let k = 1; k < w.length; k++) {
      const f = (k * sampleRate) / FFT_SIZE;
      const x = LEGACY_Q * (f / centre - centre / f);
      w[k] = 1 / (1 + x * x);
    }
    return w;
  });
  weightCache.set(sampleRate, weights);
  return weights;
}

/**
 * The old engine's `/viz/spectrum`: per band centred on LEGACY_CENTRES_HZ, the level a Q-2 band-pass
 * and a mean-absolute follower read, ×LEGACY_GAIN, clamped to 0…1 (a 0.02 RMS band already reads 0.9).
 */
export function legacyBandLevels(mono: Float64Array, sampleRate: number): number[] {
  const power = binPowers(mono);
  return legacyWeights(sampleRate).map((w) => {
    let sum = 0;
    for (let k = 1; k < w.length; k++) sum += power[k] * w[k];
    return Math.min(1, LEGACY_GAIN * MEAN_ABS_PER_RMS * rmsOf(sum));
  });
}

/** `/viz/spectrum` in the configured form. */
export function spectrum(mono: Float64Array, sampleRate: number, form: SpectrumForm): number[] {
  return form === 'raw' ? bandLevels(mono, sampleRate) : legacyBandLevels(mono, sampleRate);
}

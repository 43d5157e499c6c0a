/**
 * Small spectrum helpers for offline DSP tests (not for the audio thread: they allocate).
 *
 * - `fft(re, im)`: in-place iterative radix-2 complex FFT (length a power of two).
 * - `blackmanHarris(n)`: the 4-term Blackman-Harris window (side lobes about -92 dB, main lobe ±4 bins).
 * - `powerSpectrum(x, offset, n)`: windowed |X[k]|² for k = 0..n/2, normalised so a full-scale sine
 *   sums (over its main lobe) to 0.5 — i.e. the sum of the bins of one component is its mean power.
 * - `welch(x, n)`: averaged power spectrum of overlapping (50 %) windowed segments, same normalisation.
 */

/** In-place radix-2 FFT. `re.length` must be a power of two; `im` the same length. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if ((n & (n - 1)) !== 0 || im.length !== n) throw new Error(`fft: length ${n} is not a power of two (or im differs)`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i]; re[i] = re[j]; re[j] = tr;
      const ti = im[i]; im[i] = im[j]; im[j] = ti;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    const half = len >> 1;
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const a = i + k;
        const b = a + half;
        const xr = re[b] * cr - im[b] * ci;
        const xi = re[b] * ci + im[b] * cr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/** The 4-term Blackman-Harris window of length n (periodic form, suited to spectral analysis). */
export function blackmanHarris(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    w[i] = 0.35875 - 0.48829 * Math.cos(t) + 0.14128 * Math.cos(2 * t) - 0.01168 * Math.cos(3 * t);
  }
  return w;
}

/**
 * Windowed power spectrum of `x[offset .. offset+n)`: bins 0..n/2. Normalised so that the bins of one
 * sinusoidal component of amplitude A sum to about A²/2 (its mean power), whatever the window.
 */
export function powerSpectrum(x: ArrayLike<number>, offset: number, n: number, window: Float64Array = blackmanHarris(n)): Float64Array {
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  let wsq = 0;
  for (let i = 0; i < n; i++) {
    re[i] = x[offset + i] * window[i];
    wsq += window[i] * window[i];
  }
  fft(re, im);
  const out = new Float64Array(n / 2 + 1);
  // One-sided: a real sine of amplitude A puts A²/4 · Σw² ·... in ±f; doubling the positive side and
  // dividing by n·Σw² makes the lobe sum A²/2.
  const scale = 2 / (n * wsq);
  for (let k = 0; k <= n / 2; k++) out[k] = (re[k] * re[k] + im[k] * im[k]) * scale;
  out[0] /= 2;
  out[n / 2] /= 2;
  return out;
}

/** Welch-averaged power spectrum of `x` with segments of n samples, 50 % overlap, Blackman-Harris window. */
export function welch(x: ArrayLike<number>, n: number): Float64Array {
  const w = blackmanHarris(n);
  const acc = new Float64Array(n / 2 + 1);
  let count = 0;
  for (let off = 0; off + n <= x.length; off += n >> 1) {
    const p = powerSpectrum(x, off, n, w);
    for (let k = 0; k < acc.length; k++) acc[k] += p[k];
    count++;
  }
  for (let k = 0; k < acc.length; k++) acc[k] /= count;
  return acc;
}

/** Sum of power in bins whose centre frequency lies in [loHz, hiHz). */
export function bandPower(spectrum: Float64Array, sampleRate: number, loHz: number, hiHz: number): number {
  const n = (spectrum.length - 1) * 2;
  const k0 = Math.max(0, Math.ceil((loHz * n) / sampleRate));
  const k1 = Math.min(spectrum.length, Math.ceil((hiHz * n) / sampleRate));
  let s = 0;
  for (let k = k0; k < k1; k++) s += spectrum[k];
  return s;
}

export interface AliasReport {
  /** Power of the fundamental (its main lobe). */
  fundamental: number;
  /** Total power in bins not belonging to any harmonic below Nyquist, within the band. */
  aliasTotal: number;
  /** The strongest single non-harmonic component (its lobe power) and its frequency. */
  aliasPeak: number;
  aliasPeakHz: number;
  /** 10·log10(fundamental / aliasTotal), and the same for the peak bin. */
  totalDb: number;
  peakDb: number;
}

/**
 * Aliasing of a periodic signal with fundamental f0: every bin within `guard` bins of a true harmonic
 * k·f0 < fs/2 (and of DC) is harmonic; everything else in [0, bandHz) counts as aliasing (folded components).
 */
export function aliasReport(spectrum: Float64Array, sampleRate: number, f0: number, bandHz = sampleRate / 2, guard = 6): AliasReport {
  const n = (spectrum.length - 1) * 2;
  const harmonic = new Uint8Array(spectrum.length);
  for (let k = 0; k <= guard; k++) harmonic[k] = 1;
  for (let h = 1; h * f0 < sampleRate / 2; h++) {
    const c = Math.round((h * f0 * n) / sampleRate);
    for (let k = c - guard; k <= c + guard; k++) if (k >= 0 && k < harmonic.length) harmonic[k] = 1;
  }
  const c1 = Math.round((f0 * n) / sampleRate);
  let fundamental = 0;
  for (let k = c1 - guard; k <= c1 + guard; k++) fundamental += spectrum[k];
  let aliasTotal = 0;
  let aliasPeakBin = 0;
  const kmax = Math.min(spectrum.length, Math.ceil((bandHz * n) / sampleRate));
  for (let k = 0; k < kmax; k++) {
    if (harmonic[k]) continue;
    aliasTotal += spectrum[k];
    if (spectrum[k] > spectrum[aliasPeakBin] || harmonic[aliasPeakBin]) aliasPeakBin = k;
  }
  // A component's power spreads over the window's main lobe (±4 bins): sum it around the peak bin.
  let aliasPeak = 0;
  for (let k = aliasPeakBin - 4; k <= aliasPeakBin + 4; k++) if (k >= 0 && k < spectrum.length && !harmonic[k]) aliasPeak += spectrum[k];
  return {
    fundamental,
    aliasTotal,
    aliasPeak,
    aliasPeakHz: (aliasPeakBin * sampleRate) / n,
    totalDb: 10 * Math.log10(fundamental / aliasTotal),
    peakDb: 10 * Math.log10(fundamental / aliasPeak),
  };
}

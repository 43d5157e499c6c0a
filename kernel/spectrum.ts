/** Eight-band spectrum of recent output for `/viz/spectrum` (control thread). */

export const BAND_EDGES_HZ = [20, 60, 150, 400, 1000, 2500, 6000, 12000, 20000];
export const FFT_SIZE = 2048;

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

/**
 * RMS amplitude per band of the last FFT_SIZE samples of `mono` (Hann window, energy-corrected: a
 * full-scale sine reads about 0.707 in its band).
 */
export function bandLevels(mono: Float64Array, sampleRate: number): number[] {
  const n = FFT_SIZE;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = mono[i] * 0.5 * (1 - Math.cos((2 * Math.PI * i) / (n - 1)));
  fft(re, im);
  const levels: number[] = [];
  for (let b = 0; b + 1 < BAND_EDGES_HZ.length; b++) {
    const lo = Math.max(1, Math.floor((BAND_EDGES_HZ[b] * n) / sampleRate));
    const hi = Math.min(n / 2, Math.ceil((BAND_EDGES_HZ[b + 1] * n) / sampleRate));
    let power = 0;
    for (let k = lo; k < hi; k++) power += re[k] * re[k] + im[k] * im[k];
    // Parseval over the band, one-sided (×2), divided by the Hann window's energy (3n/8 per sample): the band's RMS.
    levels.push(Math.sqrt((2 * power) / (n * ((3 * n) / 8))));
  }
  return levels;
}

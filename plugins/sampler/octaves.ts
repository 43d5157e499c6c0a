/**
 * A sample an octave down, and two: what the sampler plays from when a drum is pitched up, so that
 * nothing above the engine's Nyquist frequency folds back into the audible band (a hi-hat pitched up
 * an octave would otherwise ring with metallic aliases down to 8 kHz).
 *
 * Level L holds the sample band-limited to a quarter of level L−1's rate and kept every second
 * sample: sample m of level L stands for position m · 2^L of the original, filtered to below
 * sampleRate / 2^(L+1). A voice playing at rate r > 1 reads level ⌈log2 r⌉ at rate r / 2^L ≤ 1.
 *
 * The filter: a 65-tap half-band lowpass (Kaiser window, β 7.86: about 80 dB down from 0.289 of
 * the input rate on, flat within 0.01 dB to 0.211), linear phase and centred, so positions line up.
 * Control thread (the sampler's control half, when it loads a sample); allocates.
 */

/** Octaves below the sample: enough for the pitch range's top (+24 semitones, rate 4). */
export const OCTAVE_LEVELS = 2;

const HALF_TAPS = 32;
const KAISER_BETA = 7.86;

/** The filter: its centre tap and its taps at offsets ±1, ±3 … ±31 (a half-band filter's others are 0). */
const { centre: CENTRE_TAP, odd: ODD_TAPS } = halfBandTaps();

function halfBandTaps(): { centre: number; odd: Float64Array } {
  const odd = new Float64Array(HALF_TAPS / 2);
  const i0 = besselI0(KAISER_BETA);
  let sum = 0.5;
  for (let k = 0; k < odd.length; k++) {
    const n = 2 * k + 1;
    const sinc = Math.sin((Math.PI * n) / 2) / (Math.PI * n);
    odd[k] = (sinc * besselI0(KAISER_BETA * Math.sqrt(1 - (n / (HALF_TAPS + 1)) ** 2))) / i0;
    sum += 2 * odd[k];
  }
  // Unity gain at DC.
  for (let k = 0; k < odd.length; k++) odd[k] /= sum;
  return { centre: 0.5 / sum, odd };
}

/** Modified Bessel function of the first kind, order 0 (for the Kaiser window). */
function besselI0(x: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** `x` band-limited to a quarter of its rate and decimated by 2 (samples outside `x` are 0). */
export function octaveDown(x: Float32Array): Float32Array {
  const n = x.length;
  // Zeros around the data, so the loop needs no bounds checks.
  const padded = new Float64Array(n + 2 * HALF_TAPS);
  for (let i = 0; i < n; i++) padded[HALF_TAPS + i] = x[i];
  const out = new Float32Array(Math.ceil(n / 2));
  const taps = ODD_TAPS;
  for (let m = 0; m < out.length; m++) {
    const c = HALF_TAPS + 2 * m;
    let acc = padded[c] * CENTRE_TAP;
    for (let k = 0, d = 1; k < taps.length; k++, d += 2) acc += taps[k] * (padded[c - d] + padded[c + d]);
    out[m] = acc;
  }
  return out;
}

/** Levels 1 … OCTAVE_LEVELS of `x` (level 0 is `x` itself). */
export function octavesOf(x: Float32Array): Float32Array[] {
  const levels: Float32Array[] = [];
  let prev = x;
  for (let l = 1; l <= OCTAVE_LEVELS; l++) {
    prev = octaveDown(prev);
    levels.push(prev);
  }
  return levels;
}

/** What the octaves are made by (the sample cache's key: sample-cache.ts): the functions' text, their constants and taps. */
export const OCTAVES_RECIPE = [octaveDown, octavesOf, halfBandTaps, besselI0].map(String).join('\n') + `\n${OCTAVE_LEVELS} ${HALF_TAPS} ${KAISER_BETA} ${CENTRE_TAP} ${ODD_TAPS.join(' ')}`;

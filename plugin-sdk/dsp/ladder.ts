/**
 * 4-pole (24 dB/octave) resonant ladder lowpass, Moog/303 style: four trapezoidal (TPT) one-pole
 * stages in a zero-delay feedback loop with a tanh saturator at the ladder's input, inside the loop
 * (Zavalishin, "The Art of VA Filter Design", ch. 5–6; the saturator is solved with the secant
 * ("cheap non-linear ZDF") method: the loop equation is linearised at the previous sample's
 * operating point, solved exactly, then the true tanh is applied).
 *
 * - `cutoffHz` is exact (bilinear with prewarping); clamped to [5 Hz, 0.45·fs].
 * - `resonance` 0..1 maps to the loop gain k = 4·resonance. The linear ladder self-oscillates at
 *   k = 4 (resonance 1): below it the filter rings and stays put; at and above it the saturator holds
 *   the oscillation at a bounded level. Resonance is clamped to [0, 1.2].
 * - The passband (DC) gain of a ladder is 1/(1 + k): resonance thins the sound, as in the analog
 *   filter. Callers that want it back multiply by up to (1 + k) (see `dcGain`).
 * - Stable for any cutoff/resonance modulation speed: the saturator bounds the ladder input to ±1,
 *   and each stage is a stable one-pole, so the state can never run away. Denormals and NaN are
 *   flushed from the state at every `flush()` / block end, which also notes whether the filter has
 *   rung out (`isQuiet`).
 * - The saturator is tanh(u) on the feedback sum u = x − k·y4 (`fastTanh`, a rational
 *   approximation within 0.024 of tanh, exactly ±1 beyond ±3, about 5× cheaper than Math.tanh):
 *   signals well below ±1 (a voice at 0.3) pass nearly linearly; near the resonant peak it
 *   compresses, which is the ladder's sound.
 *
 * Usage (create): `const f = new Ladder(ctx.sampleRate)`; per sample with moving controls:
 * `f.setParams(cutoffHz, resonance); y = f.tick(x)` (setParams returns early when unchanged) and
 * `f.flush()` once per block; per block at fixed controls: `f.setParams(...)`,
 * `f.processBlock(buf, start, end)` (in place); per block with controls moving per sample:
 * `f.processModulated(buf, cutoffs, resonances, start, end)` — what a plugin should use, since its
 * per-sample calls into the SDK would each allocate (see `fastTanhBlock`). A second ladder sharing the
 * same controls (stereo) can reuse the first one's coefficients: `right.tickWith(x, left.G, left.k)`.
 *
 * Thread: construction allocates nothing beyond the object; every method except `getState` is
 * allocation-free and safe in `process`.
 */
import { flushDenormal } from './denormal.ts';
import { tanPade } from './svf.ts';

/** Below this every stage counts as rung out (`isQuiet`). */
const QUIET = 1e-7;

/** Plain-JSON state (hot reload). */
export interface LadderState {
  s: number[];
  /** Secant slope tanh(u)/u of the saturator at the last sample. */
  t: number;
}

/**
 * tanh(x) by the rational x·(27 + x²)/(27 + 9x²) on [−3, 3] and ±1 beyond: monotonic, smooth at ±3
 * (slope 0 there), slope 1 at 0, within 0.024 of tanh everywhere. NaN gives NaN. Allocation-free.
 */
export function fastTanh(x: number): number {
  if (x > 3) return 1;
  if (x < -3) return -1;
  const x2 = x * x;
  return (x * (27 + x2)) / (27 + 9 * x2);
}

/**
 * `fastTanh` over `buf[start..end)` in place. A plugin calls this once per block rather than
 * `fastTanh` per sample: a plugin runs in a realm of its own, and V8 does not inline a call into the
 * SDK's realm, so each such call would box its number argument and result (a heap allocation each).
 */
export function fastTanhBlock(buf: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i++) buf[i] = fastTanh(buf[i]);
}

export class Ladder {
  readonly sampleRate: number;
  /** Integrator states of the four stages (public for inspection; do not write in `process`). */
  s1 = 0;
  s2 = 0;
  s3 = 0;
  s4 = 0;
  /** One-pole gain g/(1+g), g = tan(π·fc/fs), for the current cutoff. */
  G = 0;
  /** Feedback gain, 4·resonance. */
  k = 0;
  /** Secant slope of the saturator at the previous sample (1 at rest). */
  private t = 1;
  /** Every stage below QUIET at the last `flush` (or reset, or state restore). */
  private quiet = true;
  private cutoff = -1;
  private resonance = -1;
  private readonly piOverFs: number;
  private readonly maxCutoff: number;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
    this.piOverFs = Math.PI / sampleRate;
    this.maxCutoff = 0.45 * sampleRate;
    this.setParams(1000, 0);
  }

  /** Sets cutoff (Hz) and resonance (0..1; 1 = edge of self-oscillation). Skips the work when unchanged. */
  setParams(cutoffHz: number, resonance: number): void {
    if (cutoffHz !== this.cutoff) {
      this.cutoff = cutoffHz;
      let fc = cutoffHz;
      if (!(fc >= 5)) fc = 5;
      else if (fc > this.maxCutoff) fc = this.maxCutoff;
      const g = tanPade(fc * this.piOverFs);
      this.G = g / (1 + g);
    }
    if (resonance !== this.resonance) {
      this.resonance = resonance;
      let r = resonance;
      if (!(r >= 0)) r = 0;
      else if (r > 1.2) r = 1.2;
      this.k = 4 * r;
    }
  }

  /** The passband (DC) gain at the current resonance: 1/(1 + k). */
  dcGain(): number {
    return 1 / (1 + this.k);
  }

  /** Clears the state. */
  reset(): void {
    this.s1 = 0;
    this.s2 = 0;
    this.s3 = 0;
    this.s4 = 0;
    this.t = 1;
    this.quiet = true;
  }

  /**
   * True when every stage was below 1e-7 (the filter had rung out) at the last `flush()`, `reset()`
   * or state restore. A stored flag rather than a test of the states: V8 leaves a method called once
   * per block unoptimized for thousands of blocks unless its caller inlines it, and unoptimized code
   * boxes every number it reads (a heap allocation each).
   */
  isQuiet(): boolean {
    return this.quiet;
  }

  /** One sample with the current coefficients. */
  tick(x: number): number {
    return this.tickWith(x, this.G, this.k);
  }

  /** One sample with explicit coefficients `G` (= g/(1+g)) and `k` (feedback gain, 0..4.8). */
  tickWith(x: number, G: number, k: number): number {
    const b = 1 - G;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const s4 = this.s4;
    // y4 = G⁴·in + Σ, where Σ is what the stored states contribute.
    const sigma = b * (G * (G * (G * s1 + s2) + s3) + s4);
    const G2 = G * G;
    const G4 = G2 * G2;
    const t = this.t;
    // Solve u = x − k·(G⁴·t·u + Σ) with the saturator linearised as t·u, then saturate for real.
    const u = (x - k * sigma) / (1 + k * G4 * t);
    const v = fastTanh(u);
    this.t = u > 1e-9 || u < -1e-9 ? v / u : 1;
    // The four trapezoidal stages: y = G·in + (1 − G)·s; s' = 2y − s.
    const y1 = G * v + b * s1;
    this.s1 = 2 * y1 - s1;
    const y2 = G * y1 + b * s2;
    this.s2 = 2 * y2 - s2;
    const y3 = G * y2 + b * s3;
    this.s3 = 2 * y3 - s3;
    const y4 = G * y3 + b * s4;
    this.s4 = 2 * y4 - s4;
    return y4;
  }

  /** Flushes denormals and NaN from the state and notes whether it has rung out (once per block after per-sample use). */
  flush(): void {
    const s1 = flushDenormal(this.s1);
    const s2 = flushDenormal(this.s2);
    const s3 = flushDenormal(this.s3);
    const s4 = flushDenormal(this.s4);
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    this.s4 = s4;
    if (!(this.t > 0 && this.t <= 1)) this.t = 1;
    this.quiet = s1 < QUIET && s1 > -QUIET && s2 < QUIET && s2 > -QUIET && s3 < QUIET && s3 > -QUIET && s4 < QUIET && s4 > -QUIET;
  }

  /** Filters `buf[start..end)` in place with the current coefficients, then flushes. Allocation-free. */
  processBlock(buf: Float32Array, start: number, end: number): void {
    const G = this.G;
    const k = this.k;
    for (let i = start; i < end; i++) buf[i] = this.tickWith(buf[i], G, k);
    this.flush();
  }

  /**
   * Filters `buf[start..end)` in place with cutoff and resonance moving per sample (`cutoffHz[i]`,
   * `resonance[i]`), then flushes: a swept filter in one call per block (see `fastTanhBlock` on why
   * a plugin should not call `setParams` and `tick` per sample). Allocation-free.
   */
  processModulated(buf: Float64Array, cutoffHz: Float64Array, resonance: Float64Array, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      this.setParams(cutoffHz[i], resonance[i]);
      buf[i] = this.tickWith(buf[i], this.G, this.k);
    }
    this.flush();
  }

  /** Copies another ladder's state (e.g. the right channel following a mono left). Allocation-free. */
  setStateFrom(other: Ladder): void {
    this.s1 = other.s1;
    this.s2 = other.s2;
    this.s3 = other.s3;
    this.s4 = other.s4;
    this.t = other.t;
    this.quiet = other.quiet;
  }

  /** Plain JSON for hot reload (allocates: between blocks). */
  getState(): LadderState {
    return { s: [this.s1, this.s2, this.s3, this.s4], t: this.t };
  }

  /** Restores `getState()` output; tolerates missing or invalid fields (between blocks). */
  setState(state: Partial<LadderState> | null | undefined): void {
    if (state === null || typeof state !== 'object') return;
    const s = state.s;
    if (Array.isArray(s) && s.length === 4 && s.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      this.s1 = s[0];
      this.s2 = s[1];
      this.s3 = s[2];
      this.s4 = s[3];
    }
    if (typeof state.t === 'number' && state.t > 0 && state.t <= 1) this.t = state.t;
    this.flush();
  }
}

/**
 * Band-limited oscillator with six waveforms: 0 sine, 1 saw, 2 square, 3 white, 4 pink, 5 brown noise.
 *
 * - sine: float64 phase accumulator into a 2048-point table with linear interpolation (harmonics
 *   below −118 dB); exact pitch, no latency.
 * - saw / square: naive waveform plus windowed-sinc BLEP corrections (see `blep.ts`): aliasing
 *   > 80 dB down at 5 kHz / 48 kHz; output delayed by `BLEP_LATENCY` (12) samples.
 *   Saw rises from -1 to +1 and drops at the wrap; square is +1 for the first half of the period.
 * - white: xorshift32, uniform in [-1, 1), seeded per instance (deterministic).
 * - pink: white through Paul Kellet's refined pinking filter (−3 dB/octave, ±0.05 dB from 9 Hz up),
 *   RMS ≈ 0.2, peaks just under ±1, clamped to ±1 as a safety net.
 * - brown: white through a leaky integrator (−6 dB/octave above 20 Hz), normalised to RMS 0.2
 *   (peaks just under ±1), clamped to ±1 as a safety net.
 *
 * Usage (create time): `const osc = new Oscillator(ctx.sampleRate, seed); osc.setWaveform(WAVE_SAW)`.
 * Per block: `osc.process(out, start, end, freqHz)` (constant frequency) or
 * `osc.processFreqs(out, start, end, freqs)` (one frequency per sample, `freqs[i]` for `out[i]`), or
 * per sample `y = osc.next(freqHz)`. All three WRITE (not add) into `out`. Frequency is clamped to
 * [0, 0.45·sampleRate].
 *
 * Thread: the constructor and `getState` allocate (create/between blocks); `next`, `process`,
 * `processFreqs`, `setWaveform`, `reset` are allocation-free and safe in `process`.
 */
import { addBlep, blepTable, BLEP_LATENCY, BLEP_PHASES, BLEP_RING, BLEP_RING_MASK, BLEP_TAPS, type BlepTable } from './blep.ts';
import { INT32_TO_BIPOLAR, seedFrom } from './prng.ts';

export const WAVE_SINE = 0;
export const WAVE_SAW = 1;
export const WAVE_SQUARE = 2;
export const WAVE_WHITE = 3;
export const WAVE_PINK = 4;
export const WAVE_BROWN = 5;
/** Labels by index, e.g. for an enum parameter's `values`. */
export const WAVEFORM_NAMES: readonly string[] = ['sine', 'saw', 'square', 'white', 'pink', 'brown'];

const TWO_PI = 2 * Math.PI;
// Local copies of the BLEP geometry: V8 does not constant-fold imported bindings inside hot loops.
const Z = 12;
const TAPS = 24;
const PHASES = 64;
const MASK = 63;
/** Sine table size: linear interpolation error ≤ (2π/2048)²/8 ≈ 1.2e-6 (harmonics below −118 dB). */
const SINE_SIZE = 2048;
let sineShared: Float64Array | null = null;

/** One period of sine, SINE_SIZE + 1 points (the last repeats the first); built once, shared. */
function sineTable(): Float64Array {
  if (sineShared === null) {
    const t = new Float64Array(SINE_SIZE + 1);
    for (let i = 0; i <= SINE_SIZE; i++) t[i] = Math.sin((TWO_PI * i) / SINE_SIZE);
    t[SINE_SIZE] = 0;
    sineShared = t;
  }
  return sineShared;
}
/** Kellet's scale: pink RMS ≈ 0.195, peaks ≈ 0.93 over a minute of noise. */
const PINK_SCALE = 0.11;
const BROWN_CORNER_HZ = 20;
/** Brown RMS: peaks stay under 1 (5 σ) in practice; the clamp is a safety net. */
const BROWN_RMS = 0.2;

/** Plain-JSON state (hot reload, session snapshots). */
export interface OscillatorState {
  waveform: number;
  phase: number;
  /** The noise generator's state now (not only its first seed). */
  seed: number;
  /** Saw/square: the BLEP line's pending outputs (BLEP_TAPS, next first) and the last phase step; with them a restore continues exactly. */
  pending?: number[];
  lastInc?: number;
  /** Pink noise's seven filter memories, then brown noise's integrator. */
  noise?: number[];
}

export class Oscillator {
  readonly sampleRate: number;
  /** Phase of the accumulator in [0, 1) (for saw/square the output lags it by BLEP_LATENCY samples). */
  phase = 0;
  private wave = WAVE_SINE;
  private readonly invFs: number;
  private readonly maxInc = 0.45;
  /** The phase increment of the last sample rendered (primes the BLEP line on a waveform switch). */
  private lastInc = 0;
  private readonly table: BlepTable;
  private readonly sine: Float64Array;
  private readonly ring: Float64Array;
  private pos = 0;
  private seed: number;
  private b0 = 0;
  private b1 = 0;
  private b2 = 0;
  private b3 = 0;
  private b4 = 0;
  private b5 = 0;
  private b6 = 0;
  private brown = 0;
  private readonly brownLeak: number;
  private readonly brownIn: number;

  /** `seed`: any number; equal seeds give identical noise. */
  constructor(sampleRate: number, seed = 1) {
    this.sampleRate = sampleRate;
    this.invFs = 1 / sampleRate;
    this.table = blepTable();
    this.sine = sineTable();
    if (BLEP_LATENCY !== Z || BLEP_TAPS !== TAPS || BLEP_PHASES !== PHASES || BLEP_RING_MASK !== MASK) {
      throw new Error('Oscillator: BLEP geometry in oscillator.ts does not match blep.ts');
    }
    this.ring = new Float64Array(BLEP_RING);
    this.seed = seedFrom(seed);
    const leak = Math.exp((-TWO_PI * BROWN_CORNER_HZ) / sampleRate);
    this.brownLeak = leak;
    // y = leak·y + (1−leak)·w has RMS σw·sqrt((1−leak)/(1+leak)); σw = 1/sqrt(3) for uniform white.
    const rms = Math.sqrt((1 - leak) / (1 + leak) / 3);
    this.brownIn = ((1 - leak) * BROWN_RMS) / rms;
  }

  /** The current waveform index (0..5). */
  get waveform(): number {
    return this.wave;
  }

  /**
   * Selects the waveform (rounded, clamped to 0..5). Switching into saw/square primes the BLEP
   * delay line so the first samples are already the new wave. Allocation-free.
   */
  setWaveform(waveform: number): void {
    let w = Math.round(waveform);
    if (!(w >= 0)) w = 0;
    else if (w > 5) w = 5;
    if (w === this.wave) return;
    this.wave = w;
    if (w === WAVE_SAW || w === WAVE_SQUARE) this.primeInc(this.lastInc);
  }

  /** Restarts at `phase` (0..1) and clears filters and the BLEP delay line. Allocation-free. */
  reset(phase = 0): void {
    this.phase = phase - Math.floor(phase);
    this.ring.fill(0);
    this.b0 = this.b1 = this.b2 = this.b3 = this.b4 = this.b5 = this.b6 = 0;
    this.brown = 0;
  }

  /**
   * Refills the BLEP delay line of saw/square as if the oscillator had been running at `freqHz`, so
   * that the next outputs continue the waveform from `phase` without a gap (used after a waveform
   * switch and a state hand-over). Allocation-free; costs 2·BLEP_LATENCY samples of work.
   */
  prime(freqHz: number): void {
    this.primeInc(this.increment(freqHz));
  }

  private primeInc(inc: number): void {
    this.ring.fill(0);
    const n = 2 * Z;
    const target = this.phase;
    let p = target - n * inc;
    this.phase = p - Math.floor(p);
    for (let i = 0; i < n; i++) this.blepSample(inc);
    this.phase = target;
  }

  private increment(freqHz: number): number {
    const inc = freqHz * this.invFs;
    return inc > 0 ? (inc < this.maxInc ? inc : this.maxInc) : 0;
  }

  /** One saw/square sample through the BLEP delay line (used by `next` and `prime`). */
  private blepSample(inc: number): number {
    const ring = this.ring;
    const pos = this.pos;
    let p = this.phase + inc;
    let naive: number;
    if (this.wave === WAVE_SAW) {
      if (p >= 1) {
        p -= 1;
        addBlep(this.table, ring, pos, p / inc, -2);
      }
      naive = 2 * p - 1;
    } else {
      if (p >= 1) {
        p -= 1;
        addBlep(this.table, ring, pos, p / inc, 2);
      } else if (p >= 0.5 && p - inc < 0.5) {
        addBlep(this.table, ring, pos, (p - 0.5) / inc, -2);
      }
      naive = p < 0.5 ? 1 : -1;
    }
    this.phase = p;
    ring[(pos + Z) & MASK] += naive;
    const y = ring[pos];
    ring[pos] = 0;
    this.pos = (pos + 1) & MASK;
    return y;
  }

  /** One sample at `freqHz`. Allocation-free; cheap, but `process` is faster for blocks. */
  next(freqHz: number): number {
    const inc = this.increment(freqHz);
    this.lastInc = inc;
    switch (this.wave) {
      case WAVE_SINE: {
        let p = this.phase + inc;
        if (p >= 1) p -= 1;
        this.phase = p;
        const x = p * SINE_SIZE;
        const k = x | 0;
        const t = this.sine;
        return t[k] + (x - k) * (t[k + 1] - t[k]);
      }
      case WAVE_SAW:
      case WAVE_SQUARE:
        return this.blepSample(inc);
      case WAVE_WHITE:
        return this.white();
      case WAVE_PINK:
        return this.pink(this.white());
      default:
        return this.brownStep(this.white());
    }
  }

  private white(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x | 0;
    return this.seed * INT32_TO_BIPOLAR;
  }

  private pink(w: number): number {
    this.b0 = 0.99886 * this.b0 + w * 0.0555179;
    this.b1 = 0.99332 * this.b1 + w * 0.0750759;
    this.b2 = 0.969 * this.b2 + w * 0.153852;
    this.b3 = 0.8665 * this.b3 + w * 0.3104856;
    this.b4 = 0.55 * this.b4 + w * 0.5329522;
    this.b5 = -0.7616 * this.b5 - w * 0.016898;
    let y = (this.b0 + this.b1 + this.b2 + this.b3 + this.b4 + this.b5 + this.b6 + w * 0.5362) * PINK_SCALE;
    this.b6 = w * 0.115926;
    if (y > 1) y = 1;
    else if (y < -1) y = -1;
    return y;
  }

  private brownStep(w: number): number {
    const b = this.brownLeak * this.brown + this.brownIn * w;
    this.brown = b;
    return b > 1 ? 1 : b < -1 ? -1 : b;
  }

  /** Writes `out[start..end)` at a constant `freqHz`. Allocation-free. */
  process(out: Float32Array, start: number, end: number, freqHz: number): void {
    const inc = this.increment(freqHz);
    this.lastInc = inc;
    switch (this.wave) {
      case WAVE_SINE: {
        const t = this.sine;
        let p = this.phase;
        for (let i = start; i < end; i++) {
          p += inc;
          if (p >= 1) p -= 1;
          const x = p * SINE_SIZE;
          const k = x | 0;
          out[i] = t[k] + (x - k) * (t[k + 1] - t[k]);
        }
        this.phase = p;
        return;
      }
      case WAVE_SAW: {
        const ring = this.ring;
        const res = this.table.residual;
        const slo = this.table.slope;
        let p = this.phase;
        let pos = this.pos;
        for (let i = start; i < end; i++) {
          p += inc;
          if (p >= 1) {
            p -= 1;
            // Inlined addBlep(table, ring, pos, p / inc, -2) (a call here costs ~30 %).
            const x = (p / inc) * PHASES;
            const ph = x | 0;
            const a = x - ph;
            const base = ph * TAPS;
            for (let j = 0; j < TAPS; j++) ring[(pos + j) & MASK] -= 2 * (res[base + j] + a * slo[base + j]);
          }
          ring[(pos + Z) & MASK] += 2 * p - 1;
          out[i] = ring[pos];
          ring[pos] = 0;
          pos = (pos + 1) & MASK;
        }
        this.phase = p;
        this.pos = pos;
        return;
      }
      case WAVE_SQUARE: {
        const ring = this.ring;
        const res = this.table.residual;
        const slo = this.table.slope;
        let p = this.phase;
        let pos = this.pos;
        for (let i = start; i < end; i++) {
          p += inc;
          let frac = -1;
          let h = 0;
          if (p >= 1) {
            p -= 1;
            frac = p / inc;
            h = 2;
          } else if (p >= 0.5 && p - inc < 0.5) {
            frac = (p - 0.5) / inc;
            h = -2;
          }
          if (frac >= 0) {
            // Inlined addBlep(table, ring, pos, frac, h).
            const x = frac * PHASES;
            const ph = x | 0;
            const a = x - ph;
            const base = ph * TAPS;
            for (let j = 0; j < TAPS; j++) ring[(pos + j) & MASK] += h * (res[base + j] + a * slo[base + j]);
          }
          ring[(pos + Z) & MASK] += p < 0.5 ? 1 : -1;
          out[i] = ring[pos];
          ring[pos] = 0;
          pos = (pos + 1) & MASK;
        }
        this.phase = p;
        this.pos = pos;
        return;
      }
      default:
        this.processNoise(out, start, end);
    }
  }

  /** Writes `out[start..end)` with frequency `freqs[i]` (Hz) for sample i. Allocation-free. */
  processFreqs(out: Float32Array, start: number, end: number, freqs: Float64Array | Float32Array): void {
    const invFs = this.invFs;
    const maxInc = this.maxInc;
    if (end > start) this.lastInc = this.increment(freqs[end - 1]);
    switch (this.wave) {
      case WAVE_SINE: {
        const t = this.sine;
        let p = this.phase;
        for (let i = start; i < end; i++) {
          let inc = freqs[i] * invFs;
          inc = inc > 0 ? (inc < maxInc ? inc : maxInc) : 0;
          p += inc;
          if (p >= 1) p -= 1;
          const x = p * SINE_SIZE;
          const k = x | 0;
          out[i] = t[k] + (x - k) * (t[k + 1] - t[k]);
        }
        this.phase = p;
        return;
      }
      case WAVE_SAW: {
        const ring = this.ring;
        const res = this.table.residual;
        const slo = this.table.slope;
        let p = this.phase;
        let pos = this.pos;
        for (let i = start; i < end; i++) {
          let inc = freqs[i] * invFs;
          inc = inc > 0 ? (inc < maxInc ? inc : maxInc) : 0;
          p += inc;
          if (p >= 1) {
            p -= 1;
            // Inlined addBlep(table, ring, pos, p / inc, -2) (a call here costs ~30 %).
            const x = (p / inc) * PHASES;
            const ph = x | 0;
            const a = x - ph;
            const base = ph * TAPS;
            for (let j = 0; j < TAPS; j++) ring[(pos + j) & MASK] -= 2 * (res[base + j] + a * slo[base + j]);
          }
          ring[(pos + Z) & MASK] += 2 * p - 1;
          out[i] = ring[pos];
          ring[pos] = 0;
          pos = (pos + 1) & MASK;
        }
        this.phase = p;
        this.pos = pos;
        return;
      }
      case WAVE_SQUARE: {
        const ring = this.ring;
        const res = this.table.residual;
        const slo = this.table.slope;
        let p = this.phase;
        let pos = this.pos;
        for (let i = start; i < end; i++) {
          let inc = freqs[i] * invFs;
          inc = inc > 0 ? (inc < maxInc ? inc : maxInc) : 0;
          p += inc;
          let frac = -1;
          let h = 0;
          if (p >= 1) {
            p -= 1;
            frac = p / inc;
            h = 2;
          } else if (p >= 0.5 && p - inc < 0.5) {
            frac = (p - 0.5) / inc;
            h = -2;
          }
          if (frac >= 0) {
            // Inlined addBlep(table, ring, pos, frac, h).
            const x = frac * PHASES;
            const ph = x | 0;
            const a = x - ph;
            const base = ph * TAPS;
            for (let j = 0; j < TAPS; j++) ring[(pos + j) & MASK] += h * (res[base + j] + a * slo[base + j]);
          }
          ring[(pos + Z) & MASK] += p < 0.5 ? 1 : -1;
          out[i] = ring[pos];
          ring[pos] = 0;
          pos = (pos + 1) & MASK;
        }
        this.phase = p;
        this.pos = pos;
        return;
      }
      default:
        this.processNoise(out, start, end);
    }
  }

  private processNoise(out: Float32Array, start: number, end: number): void {
    let x = this.seed;
    if (this.wave === WAVE_WHITE) {
      for (let i = start; i < end; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = (x | 0) * INT32_TO_BIPOLAR;
      }
    } else if (this.wave === WAVE_PINK) {
      let b0 = this.b0, b1 = this.b1, b2 = this.b2, b3 = this.b3, b4 = this.b4, b5 = this.b5, b6 = this.b6;
      for (let i = start; i < end; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const w = (x | 0) * INT32_TO_BIPOLAR;
        b0 = 0.99886 * b0 + w * 0.0555179;
        b1 = 0.99332 * b1 + w * 0.0750759;
        b2 = 0.969 * b2 + w * 0.153852;
        b3 = 0.8665 * b3 + w * 0.3104856;
        b4 = 0.55 * b4 + w * 0.5329522;
        b5 = -0.7616 * b5 - w * 0.016898;
        let y = (b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362) * PINK_SCALE;
        b6 = w * 0.115926;
        out[i] = y > 1 ? 1 : y < -1 ? -1 : y;
      }
      // Flush denormals / NaN once per block (the poles are < 1, so states decay only with silence).
      this.b0 = b0 > 1e-20 || b0 < -1e-20 ? b0 : 0;
      this.b1 = b1 > 1e-20 || b1 < -1e-20 ? b1 : 0;
      this.b2 = b2 > 1e-20 || b2 < -1e-20 ? b2 : 0;
      this.b3 = b3 > 1e-20 || b3 < -1e-20 ? b3 : 0;
      this.b4 = b4 > 1e-20 || b4 < -1e-20 ? b4 : 0;
      this.b5 = b5 > 1e-20 || b5 < -1e-20 ? b5 : 0;
      this.b6 = b6;
    } else {
      const leak = this.brownLeak;
      const gain = this.brownIn;
      let b = this.brown;
      for (let i = start; i < end; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        b = leak * b + gain * ((x | 0) * INT32_TO_BIPOLAR);
        out[i] = b > 1 ? 1 : b < -1 ? -1 : b;
      }
      this.brown = b > 1e-20 || b < -1e-20 ? b : 0;
    }
    this.seed = x | 0;
  }

  /**
   * Hands the saw/square BLEP delay line to another renderer of this oscillator (e.g. a SIMD voice
   * bank that continues it): `dst[offset + k·stride]` = the output pending for the k-th next sample,
   * k = 0 … BLEP_TAPS − 1 (the naive wave for k < BLEP_LATENCY plus corrections; nothing is pending
   * further ahead). With `phase` and the frequency that is the whole saw/square state. Allocation-free.
   */
  readPending(dst: Float32Array | Float64Array, offset: number, stride: number): void {
    const ring = this.ring;
    const pos = this.pos;
    for (let k = 0; k < TAPS; k++) dst[offset + k * stride] = ring[(pos + k) & MASK];
  }

  /**
   * The reverse of `readPending`: takes the pending outputs back (the rest of the line is cleared)
   * from a renderer that ran this oscillator at `freqHz` and left `phase` where it is now.
   * Allocation-free.
   */
  writePending(src: Float32Array | Float64Array, offset: number, stride: number, freqHz: number): void {
    const ring = this.ring;
    ring.fill(0);
    const pos = this.pos;
    for (let k = 0; k < TAPS; k++) ring[(pos + k) & MASK] = src[offset + k * stride];
    this.lastInc = this.increment(freqHz);
  }

  /** Plain JSON for hot reload (allocates: call between blocks). */
  getState(): OscillatorState {
    const pending = new Array<number>(TAPS);
    for (let k = 0; k < TAPS; k++) pending[k] = this.ring[(this.pos + k) & MASK];
    const noise = [this.b0, this.b1, this.b2, this.b3, this.b4, this.b5, this.b6, this.brown];
    return { waveform: this.wave, phase: this.phase, seed: this.seed, pending, lastInc: this.lastInc, noise };
  }

  /**
   * Restores `getState()` output; missing or invalid fields keep their current value. Pass the
   * frequency it was playing so saw/square continue without a gap. Between blocks.
   */
  setState(state: Partial<OscillatorState> | null | undefined, freqHz = 0): void {
    if (state === null || typeof state !== 'object') return;
    if (typeof state.waveform === 'number' && Number.isFinite(state.waveform)) this.setWaveform(state.waveform);
    if (typeof state.seed === 'number' && Number.isInteger(state.seed) && state.seed !== 0) this.seed = state.seed | 0;
    if (typeof state.phase === 'number' && Number.isFinite(state.phase)) {
      this.phase = state.phase - Math.floor(state.phase);
      if (this.wave === WAVE_SAW || this.wave === WAVE_SQUARE) this.prime(freqHz);
    }
    this.restoreExact(state);
  }

  /** The BLEP line, last step and noise memories of a state that has them (else what `setState` primed stays). */
  private restoreExact(state: Partial<OscillatorState>): void {
    const finite = (a: unknown, n: number): a is number[] => Array.isArray(a) && a.length === n && a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (finite(state.pending, TAPS)) {
      this.ring.fill(0);
      for (let k = 0; k < TAPS; k++) this.ring[(this.pos + k) & MASK] = state.pending[k];
    }
    const inc = state.lastInc;
    if (typeof inc === 'number' && inc >= 0 && inc <= this.maxInc) this.lastInc = inc;
    const n = state.noise;
    if (finite(n, 8)) [this.b0, this.b1, this.b2, this.b3, this.b4, this.b5, this.b6, this.brown] = n;
  }
}

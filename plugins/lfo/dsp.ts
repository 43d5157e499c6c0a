/**
 * Low-frequency oscillator, pure DSP (control rate): a phase accumulator and five shapes. Every input
 * is explicit; nothing here knows about the kernel.
 *
 * Shapes at phase p ∈ [0, 1), all in [-1, 1]:
 * - sine: sin(2πp) — starts at 0, rising;
 * - triangle: 0 → +1 (p = ¼) → −1 (p = ¾) → 0, i.e. the sine's phase and extremes with straight lines;
 * - saw: 2p − 1, rising from −1 to +1 over the period, then dropping;
 * - square: +1 for the first half of the period, −1 for the second;
 * - sample_hold: a uniform random value in [−1, 1), drawn at each period start and held for the period.
 *
 * The modulation the plugin applies (in the target parameter's units) is
 *   (wave · depth + offset) · range            see `modulationValue`.
 *
 * Usage: `const lfo = new LfoCore(seed)`; per block: `v = lfo.wave(shape)`, then
 * `lfo.advance(rate · frames / sampleRate)`. Thread: `getState` allocates (between blocks); the rest is
 * allocation-free and safe in `process`/`beginBlock`.
 */
import { seedFrom, INT32_TO_BIPOLAR } from 'plugin-sdk';

export const SHAPE_SINE = 0;
export const SHAPE_TRIANGLE = 1;
export const SHAPE_SAW = 2;
export const SHAPE_SQUARE = 3;
export const SHAPE_SAMPLE_HOLD = 4;
/** Labels by index, for the `shape` enum parameter. */
export const SHAPE_NAMES: readonly string[] = ['sine', 'triangle', 'saw', 'square', 'sample_hold'];

const TWO_PI = 2 * Math.PI;

/** The value of `shape` at phase `p` ∈ [0, 1); `held` is the sample & hold value. */
export function lfoWave(shape: number, p: number, held: number): number {
  switch (shape) {
    case SHAPE_SINE:
      return Math.sin(TWO_PI * p);
    case SHAPE_TRIANGLE:
      return p < 0.25 ? 4 * p : p < 0.75 ? 2 - 4 * p : 4 * p - 4;
    case SHAPE_SAW:
      return 2 * p - 1;
    case SHAPE_SQUARE:
      return p < 0.5 ? 1 : -1;
    default:
      return held;
  }
}

/** The modulation offset in the target's units: (wave · depth + offset) · range. */
export function modulationValue(wave: number, depth: number, offset: number, range: number): number {
  return (wave * depth + offset) * range;
}

/** Plain-JSON state of one LFO (hot reload, patterns). */
export interface LfoCoreState {
  phase: number;
  held: number;
  seed: number;
}

export class LfoCore {
  /** Phase in [0, 1). */
  phase = 0;
  /** The sample & hold value of the current period. */
  held: number;
  /**
   * The PRNG state (int32, never 0), in an array: a field would hold an int32 beyond 2^30 as a fresh
   * heap number on every draw.
   */
  private readonly state = new Int32Array(1);

  constructor(seed = 1) {
    this.state[0] = seedFrom(seed);
    this.held = this.draw();
  }

  private draw(): number {
    // The SDK's xorshift32, inlined: a call into the SDK's realm boxes an int32 result beyond 2^30.
    let x = this.state[0];
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state[0] = x;
    return x * INT32_TO_BIPOLAR;
  }

  /** The value of `shape` now. */
  wave(shape: number): number {
    return lfoWave(shape, this.phase, this.held);
  }

  /** Advances by `cycles` (rate · seconds, ≥ 0); each period start draws a new sample & hold value. */
  advance(cycles: number): void {
    let p = this.phase + (cycles > 0 ? cycles : 0);
    if (p >= 1) {
      p -= Math.floor(p);
      this.held = this.draw();
    }
    this.phase = p;
  }

  getState(): LfoCoreState {
    return { phase: this.phase, held: this.held, seed: this.state[0] };
  }

  /** Restores `getState()` output; missing or invalid fields keep their value. */
  setState(s: Partial<LfoCoreState> | null | undefined): void {
    if (s === null || typeof s !== 'object') return;
    if (typeof s.phase === 'number' && Number.isFinite(s.phase)) this.phase = s.phase - Math.floor(s.phase);
    if (typeof s.held === 'number' && s.held >= -1 && s.held <= 1) this.held = s.held;
    if (typeof s.seed === 'number' && Number.isInteger(s.seed) && s.seed !== 0) this.state[0] = s.seed;
  }
}

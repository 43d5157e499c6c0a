/**
 * Xorshift32 (Marsaglia 2003): a tiny, fast, deterministic PRNG for noise sources. Not for
 * cryptography. Thread: any; `next()` and `xorshift32()` allocate nothing in the SDK's own realm —
 * called from a plugin's realm, a state beyond 2^30 comes back boxed (copy the three lines instead).
 *
 * Usage: `const rng = new Xorshift32(seed); const x = rng.nextBipolar()` (uniform in [-1, 1)).
 */

/** One step of xorshift32 on an int32 state; returns the new state (never 0 for a non-zero input). */
export function xorshift32(state: number): number {
  let x = state | 0;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x | 0;
}

/** 2^-31: maps an int32 to [-1, 1). */
export const INT32_TO_BIPOLAR = 1 / 2147483648;

/** A seed that is never 0 (xorshift's one fixed point), derived from any number by integer hashing. */
export function seedFrom(n: number): number {
  let x = (n | 0) ^ 0x9e3779b9;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return x === 0 ? 0x6d2b79f5 : x | 0;
}

export class Xorshift32 {
  /** The int32 state; assign `seedFrom(n)` to reseed (0 is replaced). */
  state: number;

  constructor(seed = 1) {
    this.state = seedFrom(seed);
  }

  /** The next int32. */
  nextInt(): number {
    this.state = xorshift32(this.state);
    return this.state;
  }

  /** Uniform in [-1, 1). */
  nextBipolar(): number {
    this.state = xorshift32(this.state);
    return this.state * INT32_TO_BIPOLAR;
  }

  /** Uniform in [0, 1). */
  nextUnit(): number {
    this.state = xorshift32(this.state);
    return (this.state >>> 0) * (INT32_TO_BIPOLAR * 0.5);
  }
}

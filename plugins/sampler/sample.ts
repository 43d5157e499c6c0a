/**
 * What the control half hands the audio half for each drum: `ctx.audio.share(<module id>, value)`,
 * where value is a `SharedSample` or null (the drum has no sample).
 *
 * A sample is at the engine's sample rate, finite, within ±1, in Float32Arrays over one
 * SharedArrayBuffer (shared with the audio thread, not copied), with its octaves down (octaves.ts:
 * what a hit pitched up reads, band-limited). Once published it is never written
 * again: a changed file is published as a new sample, and the audio half swaps its reference between
 * blocks while hits already sounding finish the old one.
 */
import { OCTAVE_LEVELS } from './octaves.ts';

export interface SharedSample {
  /** The file it came from, relative to the plugin folder (for logs and status). */
  readonly file: string;
  readonly left: Float32Array;
  /** The same array as `left` for a mono sample. */
  readonly right: Float32Array;
  /** `left` an octave down, two octaves down … (octaves.ts); the same arrays in `octavesRight` for a mono sample. */
  readonly octavesLeft: readonly Float32Array[];
  readonly octavesRight: readonly Float32Array[];
}

/** A sample decoded and in shared memory: each side with its octaves (`sides[0]` left, `sides[1]` right when stereo). */
export interface DecodedSample {
  readonly sides: readonly (readonly Float32Array[])[];
  /** Its length at the file's own rate (what `maxSeconds` limits). */
  readonly seconds: number;
  /** The file's format and rate, e.g. `16-bit int, 44100 Hz`. */
  readonly source: string;
  /** Below 1 when the file peaked above full scale and was scaled down to peak at 1. */
  readonly scale: number;
}

/** What the audio half plays: each side with its octaves (level L at index L). */
export interface PlayableSample {
  left: Float32Array[];
  right: Float32Array[];
}

/**
 * `value` as a playable sample if it has the shape of one (the audio half trusts nothing it is
 * handed), else null. Octaves that do not fit (another length, missing) are left out: the sample
 * then plays pitched up without them.
 */
export function asSample(value: unknown): PlayableSample | null {
  if (value === null || typeof value !== 'object') return null;
  const { left, right, octavesLeft, octavesRight } = value as Partial<SharedSample>;
  if (!(left instanceof Float32Array) || !(right instanceof Float32Array)) return null;
  if (left.length === 0 || right.length !== left.length) return null;
  const l = [left];
  const r = [right];
  for (let level = 1; level <= OCTAVE_LEVELS; level++) {
    const ol = Array.isArray(octavesLeft) ? octavesLeft[level - 1] : undefined;
    const or = Array.isArray(octavesRight) ? octavesRight[level - 1] : undefined;
    const n = Math.ceil(l[level - 1].length / 2);
    if (!(ol instanceof Float32Array) || !(or instanceof Float32Array) || ol.length !== n || or.length !== n) break;
    l.push(ol);
    r.push(or);
  }
  return { left: l, right: r };
}

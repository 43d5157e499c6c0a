/**
 * What the control half hands the audio half for each drum: `ctx.audio.share(<module id>, value)`,
 * where value is a `SharedSample` or null (the drum has no sample).
 *
 * A sample is at the engine's sample rate, finite, within ±1, in Float32Arrays over one
 * SharedArrayBuffer (shared with the audio thread, not copied). Once published it is never written
 * again: a changed file is published as a new sample, and the audio half swaps its reference between
 * blocks while hits already sounding finish the old one.
 */

export interface SharedSample {
  /** The file it came from, relative to the plugin folder (for logs and status). */
  readonly file: string;
  readonly left: Float32Array;
  /** The same array as `left` for a mono sample. */
  readonly right: Float32Array;
}

/** `value` as a sample if it has the shape of one (the audio half trusts nothing it is handed), else null. */
export function asSample(value: unknown): SharedSample | null {
  if (value === null || typeof value !== 'object') return null;
  const { file, left, right } = value as Partial<SharedSample>;
  if (!(left instanceof Float32Array) || !(right instanceof Float32Array)) return null;
  if (left.length === 0 || right.length !== left.length) return null;
  return { file: typeof file === 'string' ? file : '', left, right };
}

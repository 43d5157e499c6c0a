/**
 * What the recorder's two halves agree on: the audio half (index.ts, core.ts) and the control half
 * (control.ts, recorder.ts) both import this file; nothing else does.
 *
 * The tap ring's header words 0..3 belong to the ring (write index, read index, dropped frames);
 * words 4..15 are the recorder's, written by the audio side with Atomics:
 *
 * | word | name         | meaning                                                                  |
 * | ---- | ------------ | ------------------------------------------------------------------------ |
 * | 4    | STATE        | RecState below                                                           |
 * | 5    | SESSION      | the session number the control side sent with start                      |
 * | 6, 7 | FIRST lo, hi | absolute engine frame of the file's first sample (a block start)         |
 * | 8    | START_POS    | ring write index when the session began (its first frame in the ring)    |
 * | 9    | END_POS      | ring write index after the session's last frame (valid once STOPPED)     |
 * | 10,11| FRAMES lo, hi| frames this session put into the ring                                    |
 * | 12   | DROPPED      | frames this session lost because the ring was full (writer behind)       |
 * | 13   | CHANNELS     | channels per frame in the ring (2, or 2 × (voices + 1) for stems)        |
 * | 14   | TAP          | TapKind below                                                            |
 * | 15   | FADE         | fade-in and fade-out length in frames the audio half was made with       |
 *
 * Ordering: the audio side stores START_POS/FIRST before STATE = RECORDING and END_POS before
 * STATE = STOPPED, so a reader that sees the state also sees the positions (Atomics are seq-cst).
 */

export const TAP_NAME = 'recorder';

export const W_STATE = 4;
export const W_SESSION = 5;
export const W_FIRST_LO = 6;
export const W_FIRST_HI = 7;
export const W_START_POS = 8;
export const W_END_POS = 9;
export const W_FRAMES_LO = 10;
export const W_FRAMES_HI = 11;
export const W_DROPPED = 12;
export const W_CHANNELS = 13;
export const W_TAP = 14;
export const W_FADE = 15;

/** The ring's own write index word (the SDK's TapWriter header). */
export const W_RING_WRITE = 0;

export const RecState = {
  Idle: 0,
  /** Start received; copying begins at the next block start. */
  Armed: 1,
  Recording: 2,
  /** Stop received with a fade: still copying while the fade-out runs. */
  Stopping: 3,
  /** The last frame is in the ring; END_POS is valid. */
  Stopped: 4,
} as const;

export const TapKind = { master: 0, 'pre-fx': 1, stems: 2 } as const;
export type TapChoice = keyof typeof TapKind;

/** Commands from the control half (`ctx.audio.command`), answered between blocks. */
export const CMD_START = '/engine/record/start';
export const CMD_STOP = '/engine/record/stop';
/** Sent by the kernel to every plugin on /engine/stop: ends a recording like CMD_STOP. */
export const CMD_ENGINE_STOP = '/engine/stop';
/** The shape of the reply to CMD_START, CMD_STOP. */
export interface CommandReply {
  ok: boolean;
  state: number;
}

/** Stems for at most this many voices (engine.numVoices goes up to 128); the ring is capped at MAX_RING_BYTES. */
export const MAX_STEM_VOICES = 128;
/** The recorder's ring never takes more memory than this: with many stems it holds less than bufferSeconds. */
export const MAX_RING_BYTES = 128 * 1024 * 1024;

/** The bus a voice fills for stems: `tap:voice1` … (only when the recorder opened it). */
export function stemBusName(voice: number): `tap:${string}` {
  return `tap:voice${voice}`;
}

/** Ring length unless `bufferSeconds` says otherwise. */
const DEFAULT_BUFFER_SECONDS = 2;

/** What the audio half is made with: it can take these only in `create` (the ring is sized there). */
export interface AudioSettings {
  readonly tap: TapChoice;
  /** Stems recorded for `tap: "stems"` (`voices`, default the engine's voice count). */
  readonly voices: number;
  /** Ring channels: 2, or 2 × (voices + 1) for stems (master first). */
  readonly channels: number;
  readonly fadeFrames: number;
  /** Ring length in frames: `bufferSeconds` rounded up to a power of two, at least 4 blocks, at most MAX_RING_BYTES. */
  readonly capacity: number;
}

function numberOr(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

/**
 * The audio settings of a config section (`plugins.recorder`): the audio half makes itself from
 * them, the control half compares them with the ring it finds to know when the audio half must be
 * made again. Lenient (the control half validates the section and refuses to record with a bad one).
 */
export function audioSettings(config: Readonly<Record<string, unknown>>, numVoices: number, sampleRate: number, maxBlock: number): AudioSettings {
  const tap: TapChoice = config.tap === 'pre-fx' || config.tap === 'stems' ? config.tap : 'master';
  const voices = Math.round(numberOr(config.voices, numVoices, 1, MAX_STEM_VOICES));
  const channels = tap === 'stems' ? 2 * (voices + 1) : 2;
  const fadeFrames = Math.round((numberOr(config.fadeMs, 0, 0, 1000) * sampleRate) / 1000);
  const seconds = numberOr(config.bufferSeconds, DEFAULT_BUFFER_SECONDS, 0.01, 60);
  let capacity = 2;
  while (capacity < Math.max(4 * maxBlock, Math.ceil(seconds * sampleRate))) capacity *= 2;
  // Many stems: the ring holds less time rather than taking more than MAX_RING_BYTES.
  while (capacity * channels * 4 > MAX_RING_BYTES && capacity / 2 >= 4 * maxBlock) capacity /= 2;
  return { tap, voices, channels, fadeFrames, capacity };
}

/** The settings the ring's audio half was made with differ from `wanted` (its header and shape say). */
export function ringDiffers(ring: { readonly channels: number; readonly capacity: number; readonly header: Int32Array }, wanted: AudioSettings): boolean {
  const h = ring.header;
  return Atomics.load(h, W_TAP) !== TapKind[wanted.tap] || ring.channels !== wanted.channels || ring.capacity !== wanted.capacity || Atomics.load(h, W_FADE) !== wanted.fadeFrames;
}

/**
 * What the recorder's audio side (plugins/recorder) and the kernel's control-side writer
 * (kernel/recording) agree on. It lives in the SDK because plugins import only the SDK and the
 * kernel never imports a plugin; plugins reach it as `recorderProtocol`.
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

/** The ring's own write index word (kernel/audio/tap-ring.ts). */
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

export const CMD_START = '/engine/record/start';
export const CMD_STOP = '/engine/record/stop';
/** Sent by the kernel to every plugin on /engine/stop: ends a recording like CMD_STOP. */
export const CMD_ENGINE_STOP = '/engine/stop';

/** Stems for at most this many voices (engine.numVoices goes up to 128); the ring is capped at MAX_RING_BYTES. */
export const MAX_STEM_VOICES = 128;
/** The recorder's ring never takes more memory than this: with many stems it holds less than bufferSeconds. */
export const MAX_RING_BYTES = 128 * 1024 * 1024;

/** The bus a voice fills for stems: `tap:voice1` … (only when the recorder opened it). */
export function stemBusName(voice: number): `tap:${string}` {
  return `tap:voice${voice}`;
}

/**
 * chorus1's state as zod checks it (`stateSchema`): `{ v: 1 }` in a pattern slot, `{ v: 1, dsp }` on
 * a hot reload, where `dsp` is `ChorusDsp.getState()`: the LFO phase and the two lines (typed
 * arrays; plain arrays from older states). Every field may be missing; every sample is finite and
 * within ±MAX_STATE_SAMPLE. A state that fails is refused whole; `setState` ignores it.
 */
import { stateSamples, z } from 'plugin-sdk';

/** Longest line a state may carry (2^16 frames: 50 ms of delay at 192 kHz fits in 2^14). */
const MAX_LINE = 1 << 16;

const LineSchema = z.object({ buffer: stateSamples(MAX_LINE), pos: z.number().int().min(0).max(MAX_LINE) });

export const ChorusDspStateSchema = z
  .object({
    v: z.literal(1),
    /** LFO phase, cycles. */
    phase: z.number().min(0).max(1),
    idle: z.boolean(),
    /** Frames of silence so far (it goes idle after a line's length of them). */
    quietFrames: z.number().int().min(0).max(1e9),
    lines: z.array(LineSchema).length(2),
  })
  .partial();

export const ChorusStateSchema = z.object({ v: z.literal(1), dsp: ChorusDspStateSchema }).partial();

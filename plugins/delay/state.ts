/**
 * delay1's state as zod checks it (`stateSchema`): `{ v: 1 }` in a pattern slot, `{ v: 1, dsp }` on
 * a hot reload, where `dsp` is `DelayDsp.getState()`: the two lines (typed arrays; plain arrays from
 * older states), filter memories and the current delay. Every field may be missing; every sample is
 * finite and within ±MAX_STATE_SAMPLE. A state that fails is refused whole; `setState` ignores it.
 */
import { stateSample, stateSamples, z } from 'plugin-sdk';

/** Longest line a state may carry (2^22 frames: 87 s at 48 kHz). */
const MAX_LINE = 1 << 22;



const samples = stateSamples(MAX_LINE);

const LineSchema = z.object({ buffer: samples, pos: z.number().int().min(0).max(MAX_LINE) });

export const DelayDspStateSchema = z
  .object({
    v: z.literal(1),
    /** Samples. */
    delay: z.number().min(0).max(MAX_LINE),
    idle: z.boolean(),
    /** Frames of silence so far (it goes idle after a few seconds of them). */
    quietFrames: z.number().min(0).max(1e9),
    linked: z.boolean(),
    lines: z.array(LineSchema).length(2).nullable(),
    filters: z.array(z.array(stateSample).length(4)).length(2),
  })
  .partial();

export const DelayStateSchema = z.object({ v: z.literal(1), dsp: DelayDspStateSchema }).partial();

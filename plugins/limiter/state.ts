/**
 * limiter1's state as zod checks it (`stateSchema`): `{ v: 1 }` in a pattern slot, `{ v: 1, dsp }`
 * on a hot reload, where `dsp` is `LimiterDsp.getState()`: the look-ahead audio (typed arrays) and
 * the gain computer (gains within 0–1, frame counters). Every field may be missing; every number is
 * finite and bounded. A state that fails is refused whole; `setState` ignores it.
 */
import { stateSamples, z } from 'plugin-sdk';

/** Longest look-ahead buffer or gain window a state may carry. */
const MAX_LENGTH = 1 << 16;
const MAX_FRAME = 2 ** 53;


const samples = stateSamples(MAX_LENGTH, { float32: true });
const gain = z.number().min(0).max(1);
const frame = z.number().min(0).max(MAX_FRAME);

export const LimiterDspStateSchema = z
  .object({
    v: z.literal(1),
    lookahead: z.number().int().min(0).max(MAX_LENGTH),
    bufL: samples,
    bufR: samples,
    pos: z.number().int().min(0).max(MAX_LENGTH),
    frame,
    dequeValue: z.array(gain).max(MAX_LENGTH),
    dequeFrame: z.array(frame).max(MAX_LENGTH),
    release: gain,
    box: z.array(gain).max(MAX_LENGTH),
    boxPos: z.number().int().min(0).max(MAX_LENGTH),
  })
  .partial();

export const LimiterStateSchema = z.object({ v: z.literal(1), dsp: LimiterDspStateSchema }).partial();

/**
 * reverb1's state as zod checks it (`stateSchema`): `{ v: 1 }` in a pattern slot, `{ v: 1, dsp }` on
 * a hot reload, where `dsp` is `ReverbDsp.getState()`: the whole Freeverb tail (typed arrays; plain
 * arrays from older states). Every field may be missing; every sample is finite and within
 * ±MAX_STATE_SAMPLE. A state that fails is refused whole; `setState` ignores it.
 */
import { stateSample, stateSamples, z } from 'plugin-sdk';

/** Longest history a state may carry (far beyond Freeverb's longest comb at 192 kHz). */
const MAX_LINE = 1 << 20;
/** More lines than Freeverb has (16 combs, 8 allpasses). */
const MAX_LINES = 64;


const samples = stateSamples(MAX_LINE);
const positions = z.array(z.number().int().min(0).max(MAX_LINE)).max(MAX_LINES);

const FreeverbStateSchema = z
  .object({
    v: z.literal(1),
    combs: z.array(samples).max(MAX_LINES),
    combPos: positions,
    combStore: z.array(stateSample).max(MAX_LINES),
    allpasses: z.array(samples).max(MAX_LINES),
    allpassPos: positions,
    wetNow: z.number().min(0).max(1),
  })
  .partial();

export const ReverbDspStateSchema = z
  .object({
    v: z.literal(1),
    idle: z.boolean(),
    /** Frames of silence so far (it goes idle after a few seconds of them). */
    quietFrames: z.number().min(0).max(1e9),
    freeverb: FreeverbStateSchema.nullable(),
  })
  .partial();

export const ReverbStateSchema = z.object({ v: z.literal(1), dsp: ReverbDspStateSchema }).partial();

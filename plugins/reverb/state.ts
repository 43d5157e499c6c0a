/**
 * reverb1's state as zod checks it (`stateSchema`): `{ v: 1 }` in a pattern slot, `{ v: 1, dsp }` on
 * a hot reload, where `dsp` is `ReverbDsp.getState()`: the whole Freeverb tail (typed arrays; plain
 * arrays from older states). Every field may be missing; every sample is finite and within
 * ±MAX_STATE_SAMPLE. A state that fails is refused whole; `setState` ignores it.
 */
import { MAX_STATE_SAMPLE, z } from 'plugin-sdk';

/** Longest history a state may carry (far beyond Freeverb's longest comb at 192 kHz). */
const MAX_LINE = 1 << 20;
/** More lines than Freeverb has (16 combs, 8 allpasses). */
const MAX_LINES = 64;

function bounded(a: ArrayLike<number>): boolean {
  if (a.length > MAX_LINE) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (!(x >= -MAX_STATE_SAMPLE && x <= MAX_STATE_SAMPLE)) return false;
  }
  return true;
}

const samples = z
  .union([z.instanceof(Float32Array), z.instanceof(Float64Array), z.array(z.number())])
  .refine(bounded, { error: `must hold at most ${MAX_LINE} samples, each finite and within ±${MAX_STATE_SAMPLE}` });
const memory = z.number().min(-MAX_STATE_SAMPLE).max(MAX_STATE_SAMPLE);
const positions = z.array(z.number().int().min(0).max(MAX_LINE)).max(MAX_LINES);

const FreeverbStateSchema = z
  .object({
    v: z.literal(1),
    combs: z.array(samples).max(MAX_LINES),
    combPos: positions,
    combStore: z.array(memory).max(MAX_LINES),
    allpasses: z.array(samples).max(MAX_LINES),
    allpassPos: positions,
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

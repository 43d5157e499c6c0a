/**
 * The sampler's state as zod checks it (`stateSchema`): `{ v: 1, voices: [DrumVoiceState…] }`, the
 * hits sounding, on a hot reload and in a session snapshot ('reload' only: a pattern keeps no hits).
 * Every number is finite and bounded; sample data (a hit on a sample replaced since, with its octaves
 * down) is float32 and at most `MAX_FRAMES` long. A state that fails is refused whole; `setState` ignores it.
 */
import { stateSamples, z } from 'plugin-sdk';
import { OCTAVE_LEVELS } from './octaves.ts';

/** The longest sample the control half takes (plugins.sampler.maxSeconds up to 600 s) at 192 kHz. */
const MAX_FRAMES = 600 * 192_000;
const MAX_VOICES = 4096;
const level = z.number().min(0).max(1);
const data = stateSamples(MAX_FRAMES, { float32: true }) as unknown as z.ZodType<Float32Array>;

export const SamplerStateSchema = z.object({
  v: z.literal(1),
  voices: z
    .array(
      z.object({
        voice: z.number().int().min(0).max(MAX_VOICES),
        pos: z.number().min(0).max(MAX_FRAMES),
        gain: level,
        env: level,
        fade: level,
        fadeStep: level,
        left: data.optional(),
        right: data.optional(),
        octavesLeft: z.array(data).max(OCTAVE_LEVELS).optional(),
        octavesRight: z.array(data).max(OCTAVE_LEVELS).optional(),
      }),
    )
    .max(MAX_VOICES),
});

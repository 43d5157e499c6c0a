/**
 * The voices plugin's state as zod checks it (`stateSchema`): `{ v: 1, voices: [VoiceState…] }`,
 * one entry per module in order (hot reload and pattern slots alike). Every field may be missing
 * (an older state); every number is finite and bounded: pitches within 100 kHz, envelope levels
 * 0–1, filter memories within ±MAX_STATE_SAMPLE. A state that fails is refused whole (pattern loads
 * name the field); `setState` ignores it.
 */
import { ADSR_STAGE_NAMES, MAX_STATE_SAMPLE, z } from 'plugin-sdk';

/** Above any sample rate's Nyquist frequency. */
const MAX_HZ = 100_000;
/** Samples: longer than any envelope segment or glide (3 s at 192 kHz is 576,000). */
const MAX_SAMPLES = 1e9;
/** More than any configuration has voices. */
const MAX_VOICES = 1024;

const memory = z.number().min(-MAX_STATE_SAMPLE).max(MAX_STATE_SAMPLE);
const hz = z.number().positive().max(MAX_HZ);
const seed = z.number().int().min(-(2 ** 31)).max(2 ** 32 - 1);

export const VoiceStateSchema = z
  .object({
    osc: z
      .object({
        waveform: z.number().int().min(0).max(5),
        phase: z.number().min(-1e6).max(1e6),
        seed,
        pending: z.array(memory).max(64),
        lastInc: z.number().min(0).max(0.5),
        noise: z.array(memory).max(8),
      })
      .partial(),
    env: z
      .object({
        stage: z.string().refine((s) => ADSR_STAGE_NAMES.includes(s), { error: `must be one of ${ADSR_STAGE_NAMES.join(', ')}` }),
        level: z.number().min(0).max(1),
        remain: z.number().int().min(0).max(MAX_SAMPLES),
        inc: z.number().min(-1).max(1),
        target: z.number().min(0).max(1),
        gate: z.boolean(),
      })
      .partial(),
    filter: z.object({ ic1: memory, ic2: memory }).partial(),
    freq: hz,
    glideTarget: hz,
    glideRemain: z.number().int().min(0).max(MAX_SAMPLES),
    /** Pitch ratio per sample of a glide. */
    glideRatio: z.number().positive().max(MAX_HZ),
  })
  .partial();

export const VoicesStateSchema = z
  .object({
    v: z.literal(1),
    voices: z.array(VoiceStateSchema.nullable()).max(MAX_VOICES),
  })
  .partial();

export type VoicesState = z.output<typeof VoicesStateSchema>;

/**
 * acid1's state as zod checks it (`stateSchema`): `{ v: 1, filter: { accent, env, left, right } }`
 * (hot reload and pattern slots alike). Every field may be missing; every number is finite and
 * bounded: envelope levels within the accented peak (2), ladder memories within ±MAX_STATE_SAMPLE.
 * A state that fails is refused whole (pattern loads name the field); `setState` ignores it.
 */
import { MAX_STATE_SAMPLE, z } from 'plugin-sdk';

const memory = z.number().min(-MAX_STATE_SAMPLE).max(MAX_STATE_SAMPLE);

const LadderSchema = z
  .object({
    s: z.array(memory).length(4),
    /** Secant slope tanh(u)/u of the saturator: (0, 1]. */
    t: z.number().min(0).max(1),
  })
  .partial();

const EnvelopeSchema = z
  .object({
    stage: z.number().int().min(0).max(2),
    level: z.number().min(0).max(2),
    peak: z.number().min(0).max(2),
    remain: z.number().int().min(0).max(1e6),
    inc: z.number().min(-2).max(2),
  })
  .partial();

export const AcidStateSchema = z
  .object({
    v: z.literal(1),
    filter: z
      .object({
        accent: z.number().min(0).max(1),
        env: EnvelopeSchema,
        left: LadderSchema,
        right: LadderSchema,
      })
      .partial(),
  })
  .partial();

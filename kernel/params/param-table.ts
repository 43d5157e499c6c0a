/** Validation of a plugin's parameter table (control thread), so a bad table is refused before it reaches audio. */
import { z } from 'zod';

const paramSpec = z
  .object({
    type: z.enum(['float', 'int', 'enum']).optional(),
    min: z.number().finite(),
    max: z.number().finite(),
    default: z.number().finite(),
    unit: z.string().optional(),
    smoothingMs: z.number().min(0).max(10_000).optional(),
    description: z.string().optional(),
    values: z.array(z.string()).optional(),
    deprecated: z.boolean().optional(),
  })
  .strict()
  .refine((p) => p.min < p.max, { message: 'min must be below max' })
  .refine((p) => p.default >= p.min && p.default <= p.max, { message: 'default must lie within [min, max]' })
  .refine((p) => p.type !== 'enum' || (p.values !== undefined && p.values.length === p.max - p.min + 1), {
    message: 'an enum needs one label in `values` per integer in [min, max]',
  });

export const paramTableSchema = z.record(z.string().regex(/^[a-z][a-z0-9_]*(\/[a-z][a-z0-9_]*)*$/, 'parameter names are lower_snake segments joined by /'), paramSpec);

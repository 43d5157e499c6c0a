/**
 * The lfo plugin's state as zod checks it (`stateSchema`):
 * `{ v: 1, modules: { lfo1: { target, phase, held, seed }, … } }` (hot reload and pattern slots
 * alike). Every field may be missing; the target is an address of at most 256 characters (one not
 * loaded yet is kept and resolved later), the phase finite (it wraps), the held sample & hold value
 * within ±1. A state that fails is refused whole (pattern loads name the field); `setState` ignores it.
 */
import { z } from 'plugin-sdk';

export const LfoModuleStateSchema = z
  .object({
    target: z.string().max(256),
    phase: z.number().min(-1e6).max(1e6),
    held: z.number().min(-1).max(1),
    seed: z.number().int().min(-(2 ** 31)).max(2 ** 32 - 1),
  })
  .partial();

export const LfoStateSchema = z
  .object({
    v: z.literal(1),
    modules: z.record(z.string().max(64), LfoModuleStateSchema.nullable()),
  })
  .partial();

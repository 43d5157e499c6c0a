/**
 * dist1's state as zod checks it (`stateSchema`): `{ v: 1 }` in a pattern slot, `{ v: 1, dsp }` on a
 * hot reload, where `dsp` is `DistortionDsp.getState()`: filter and oversampler memories, per
 * channel. Every field may be missing; every memory is finite and bounded. A state that fails is
 * refused whole; `setState` ignores it.
 */
import { MAX_STATE_SAMPLE, z } from 'plugin-sdk';

/** The oversampler runs after the drive gain (up to 50×): its memories get 4× the usual headroom. */
const MAX_MEMORY = 4 * MAX_STATE_SAMPLE;
const memory = z.number().min(-MAX_MEMORY).max(MAX_MEMORY);
const pair = z.array(memory).length(2);
/** One channel's half-band chain: previous inputs and outputs of each section. */
const chain = z.object({ x: z.array(memory).max(64), y: z.array(memory).max(64) }).partial();

export const DistortionDspStateSchema = z
  .object({
    v: z.literal(1),
    hp1: pair,
    hp2: pair,
    dcX: pair,
    dcY: pair,
    toneHp: pair,
    lp1: pair,
    lp2: pair,
    adaaX: pair,
    up: z.array(chain).length(2),
    down: z.array(chain).length(2),
  })
  .partial();

export const DistortionStateSchema = z.object({ v: z.literal(1), dsp: DistortionDspStateSchema }).partial();

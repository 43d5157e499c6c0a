/**
 * Building blocks for a plugin's `stateSchema` (zod): audio held in state is finite and bounded, so a
 * corrupt or hostile slot can never put a huge value into a delay line or a filter memory.
 */
import { z } from 'zod';
import { MAX_STATE_SAMPLE } from './types.ts';

/** One number of audio held in state (a filter memory, a stored sample): finite, within ±MAX_STATE_SAMPLE. */
export const stateSample = z.number().min(-MAX_STATE_SAMPLE).max(MAX_STATE_SAMPLE);

function bounded(maxLength: number): (a: ArrayLike<number>) => boolean {
  return (a) => {
    if (a.length > maxLength) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (!(x >= -MAX_STATE_SAMPLE && x <= MAX_STATE_SAMPLE)) return false;
    }
    return true;
  };
}

/**
 * A buffer of audio held in state: at most `maxLength` samples, each a `stateSample`. By default a
 * Float32Array or Float64Array (hot reload) or a plain array (patterns, older states); `float32`
 * takes a Float32Array only.
 */
export function stateSamples(maxLength: number, options: { float32?: boolean } = {}): z.ZodType<ArrayLike<number>> {
  const check = { error: `must hold at most ${maxLength} samples, each finite and within ±${MAX_STATE_SAMPLE}` };
  if (options.float32) return z.instanceof(Float32Array).refine(bounded(maxLength), check);
  return z.union([z.instanceof(Float32Array), z.instanceof(Float64Array), z.array(z.number())]).refine(bounded(maxLength), check);
}

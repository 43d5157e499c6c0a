/**
 * Trying a plugin version before it goes live (control thread, never the audio thread): construct it
 * in a private engine with the live parameter values and state, feed its buses with noise, render a
 * second of audio, and refuse it if it throws, makes non-finite or runaway audio, or is too slow.
 */
import type { PluginDefinition } from '../plugin-sdk/types.ts';
import type { SlotSpec } from './slot-spec.ts';
import { trialEngine } from './trial-engine.ts';

export interface StagingOptions {
  sampleRate: number;
  blockSize: number;
  smoothingMs: number;
  seconds: number;
}

export interface StagingReport {
  blocks: number;
  medianBlockMs: number;
  peak: number;
}

export class StagingError extends Error {}

/** A block's median render time above this share of the deadline is too slow to go live. */
const MAX_MEDIAN_SHARE = 0.5;

export function stagePlugin(
  spec: SlotSpec,
  definition: PluginDefinition,
  state: unknown,
  values: ReadonlyMap<number, number>,
  options: StagingOptions,
): StagingReport {
  const engine = trialEngine(options.sampleRate, options.blockSize, options.smoothingMs);
  try {
    engine.load(spec, definition);
  } catch (e) {
    throw new StagingError(`create() threw: ${(e as Error)?.stack ?? String(e)}`);
  }
  for (const [index, value] of values) engine.bank.setBase(index, value);
  if (state !== undefined) {
    try {
      engine.setState(spec.pluginId, state);
    } catch (e) {
      throw new StagingError(`setState() threw on the running version's state: ${(e as Error)?.stack ?? String(e)}`);
    }
  }
  const l = new Float32Array(options.blockSize);
  const r = new Float32Array(options.blockSize);
  const blocks = Math.ceil((options.seconds * options.sampleRate) / options.blockSize);
  const times = new Float64Array(blocks);
  let peak = 0;
  for (let b = 0; b < blocks; b++) {
    const began = performance.now();
    engine.renderBlock(l, r, options.blockSize);
    times[b] = performance.now() - began;
    const fault = engine.plugins().find((p) => p.pluginId === spec.pluginId && p.bypassed);
    if (fault) throw new StagingError(`failed in its first ${((b + 1) * options.blockSize / options.sampleRate).toFixed(2)} s: ${fault.lastError}`);
    for (let i = 0; i < l.length; i++) peak = Math.max(peak, Math.abs(l[i]), Math.abs(r[i]));
  }
  engine.housekeeping();
  const median = times.sort()[Math.floor(blocks / 2)] ?? 0;
  const deadline = (options.blockSize / options.sampleRate) * 1000;
  if (median > deadline * MAX_MEDIAN_SHARE) {
    throw new StagingError(`too slow: ${median.toFixed(2)} ms per block (median) against a ${deadline.toFixed(2)} ms deadline`);
  }
  return { blocks, medianBlockMs: median, peak };
}

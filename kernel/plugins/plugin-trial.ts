/**
 * The trial of a plugin version (the standby audio thread, or an offline engine's staging worker; never the live audio thread): construct it in a private
 * engine with the live parameter values and state, feed its buses with noise, render some audio, and
 * refuse it if it throws, makes non-finite or runaway audio, is too slow, or takes more memory than
 * it may. Throws a plain Error with the reason.
 */
import { evaluatePlugin } from './plugin-runtime.ts';
import type { SlotSpec } from '../audio/slot-spec.ts';
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import { trialEngine } from '../audio/trial-engine.ts';
import { Slot } from '../audio/shared-state.ts';

export interface TrialRequest {
  spec: SlotSpec;
  /** The running version's state (hot reload), or undefined. */
  state: unknown;
  /** Live base values by parameter index. */
  values: [number, number][];
  sampleRate: number;
  blockSize: number;
  smoothingMs: number;
  seconds: number;
  memoryMb: number;
}

export interface StagingReport {
  blocks: number;
  medianBlockMs: number;
  peak: number;
  /** Memory the version took (heap and array buffers), in MB. */
  memoryMb: number;
}

/** A block's median render time above this share of the deadline is too slow to go live. */
const MAX_MEDIAN_SHARE = 0.5;

/** A version's definition evaluated just before its trial, and the memory in use before that evaluation. */
export interface Evaluated {
  definition: PluginDefinition;
  base: number;
}

/** Heap and array-buffer bytes of this thread (a worker's figures are its own). */
export function memoryInUse(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A version refused for the memory it took (the thread that tried it may keep that memory: end it). */
export class MemoryLimitError extends Error {}

function checkMemory(base: number, limitMb: number, when: string): number {
  const mb = (memoryInUse() - base) / 1048576;
  if (mb > limitMb) {
    throw new MemoryLimitError(`uses ${mb.toFixed(0)} MB ${when}, over the limit of ${limitMb} MB per plugin (engine.pluginMemoryMb)`);
  }
  return mb;
}

/** `evaluated`: this version's module as its evaluation left it (not evaluated again: one realm, one compile). */
export function runTrial(request: TrialRequest, evaluated?: Evaluated): StagingReport {
  const { spec, sampleRate, blockSize } = request;
  const engine = trialEngine(sampleRate, blockSize, request.smoothingMs);
  const base = evaluated?.base ?? memoryInUse();
  try {
    engine.load(spec, evaluated?.definition ?? evaluatePlugin(spec.code, spec.filename));
  } catch (e) {
    throw new Error(`create() threw: ${(e as Error)?.stack ?? String(e)}`);
  }
  checkMemory(base, request.memoryMb, 'after create()');
  for (const [index, value] of request.values) engine.bank.setBase(index, value);
  if (request.state !== undefined) {
    try {
      engine.setState(spec.pluginId, request.state);
    } catch (e) {
      throw new Error(`setState() threw on the running version's state: ${(e as Error)?.stack ?? String(e)}`);
    }
  }
  const l = new Float32Array(blockSize);
  const r = new Float32Array(blockSize);
  const blocks = Math.ceil((request.seconds * sampleRate) / blockSize);
  const times = new Float64Array(blocks);
  let peak = 0;
  const faults = engine.shared.values;
  for (let b = 0; b < blocks; b++) {
    const began = performance.now();
    engine.renderBlock(l, r, blockSize);
    times[b] = performance.now() - began;
    // Only the version tried can fault here (the noise source does not).
    if (faults[Slot.PluginFaults] > 0) {
      const fault = engine.plugins().find((p) => p.pluginId === spec.pluginId && p.bypassed);
      throw new Error(`failed in its first ${(((b + 1) * blockSize) / sampleRate).toFixed(2)} s: ${fault?.lastError ?? 'a fault'}`);
    }
    for (let i = 0; i < l.length; i++) {
      const x = Math.abs(l[i]) > Math.abs(r[i]) ? Math.abs(l[i]) : Math.abs(r[i]);
      if (x > peak) peak = x;
    }
  }
  const memoryMb = checkMemory(base, request.memoryMb, `after ${request.seconds} s of audio`);
  engine.housekeeping();
  const median = times.sort()[Math.floor(blocks / 2)] ?? 0;
  const deadline = (blockSize / sampleRate) * 1000;
  if (median > deadline * MAX_MEDIAN_SHARE) {
    throw new Error(`too slow: ${median.toFixed(2)} ms per block (median) against a ${deadline.toFixed(2)} ms deadline`);
  }
  return { blocks, medianBlockMs: median, peak, memoryMb };
}

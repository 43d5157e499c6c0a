/**
 * A private audio graph for trying plugin code outside the live one: the staging trial of a new
 * version (control thread) and the warm-up before the clock starts (audio thread). Its buses carry
 * noise, so effects work on a real signal.
 */
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import { AudioEngine } from './audio-engine.ts';
import { ControlRing } from './control-ring.ts';
import type { SlotSpec } from './slot-spec.ts';

/** Noise into every bus a plugin could read. */
const NOISE_SOURCE: PluginDefinition = {
  params: {},
  create(ctx) {
    const buses = [ctx.bus('main'), ctx.bus('send:reverb'), ctx.bus('send:delay')];
    let seed = 22222;
    return {
      process(start: number, end: number) {
        for (const b of buses) {
          for (let i = start; i < end; i++) {
            seed = (seed * 1664525 + 1013904223) >>> 0;
            const x = (seed / 4294967296 - 0.5) * 0.5;
            b.l[i] += x;
            b.r[i] += x;
          }
        }
      },
    };
  },
};

const NOISE_SPEC: SlotSpec = {
  slotId: 0,
  pluginId: '(trial noise)',
  version: '0',
  role: 'source',
  order: -1e9,
  code: '',
  filename: '',
  modules: [],
  params: [],
  gates: [],
  follows: [],
  config: {},
  numVoices: 1,
};

/** An empty graph at the given format with the noise source in it. */
export function trialEngine(sampleRate: number, blockSize: number, smoothingMs: number): AudioEngine {
  const engine = new AudioEngine(sampleRate, blockSize, smoothingMs, new ControlRing(16), new ControlRing(64));
  engine.load(NOISE_SPEC, NOISE_SOURCE);
  return engine;
}

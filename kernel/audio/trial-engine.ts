/**
 * A private audio graph for trying plugin code outside the live one: the staging trial of a new
 * version (control thread) and the warm-up before the clock starts (audio thread). Its buses carry
 * noise, so effects work on a real signal.
 */
import type { Bus, PluginDefinition } from '../../plugin-sdk/types.ts';
import { AudioEngine } from './audio-engine.ts';
import { ControlRing } from './control-ring.ts';
import type { SlotSpec } from './slot-spec.ts';

/**
 * Noise into `main` and every send bus of `engine`, whichever plugins declared them: the send buses
 * are looked up again at a block start whenever the engine's buses changed (a send plugin loaded
 * after the noise source, or one gone).
 */
function noiseSource(engine: AudioEngine): PluginDefinition {
  return {
    params: {},
    create(ctx) {
      const main = ctx.bus('main');
      let buses: Bus[] = [main];
      let known = -1;
      let seed = 22222;
      return {
        beginBlock() {
          if (engine.busVersion === known) return;
          known = engine.busVersion;
          buses = [main, ...engine.busesNamed('send:')];
        },
        process(start: number, end: number) {
          for (let b = 0; b < buses.length; b++) {
            const { l, r } = buses[b];
            for (let i = start; i < end; i++) {
              seed = (seed * 1664525 + 1013904223) >>> 0;
              const x = (seed / 4294967296 - 0.5) * 0.5;
              l[i] += x;
              r[i] += x;
            }
          }
        },
      };
    },
  };
}

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
  engine.load(NOISE_SPEC, noiseSource(engine));
  return engine;
}

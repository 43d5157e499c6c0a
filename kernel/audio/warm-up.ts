/**
 * The warm-up before the clock starts (audio thread). A plugin's first blocks run cold code — V8
 * interprets it until it has seen it run and optimised it, WebAssembly starts on its baseline tier —
 * and at 32 voices the first hundred blocks took 2–10 ms each instead of 0.2 (measured in-process),
 * enough to make the first notes late. So before the clock starts, scratch instances of every live
 * plugin, made from the same definitions (so the same functions and the same JIT feedback), play a
 * private graph for a moment with noise on the buses, the live parameter values and gates opening
 * and closing; then they are disposed. The live instances keep their state untouched.
 */
import type { AudioEngine } from './audio-engine.ts';
import { EventKind } from './event-kinds.ts';
import { trialEngine } from './trial-engine.ts';

/** Gates open for the first half of every period, so attack, decay, release and re-trigger all run. */
const GATE_PERIOD_S = 0.2;

/** Renders `seconds` of a private copy of `live`'s graph. Never throws: a plugin that fails here is simply not warmed. */
export function warmUp(live: AudioEngine, smoothingMs: number, seconds: number): void {
  const n = live.maxBlock;
  const trial = trialEngine(live.sampleRate, n, smoothingMs);
  // A scratch instance that hangs is the live plugin's code hanging: the watchdog must see it.
  trial.watch = live.watch;
  const gates: number[] = [];
  for (const { spec, definition } of live.versions()) {
    try {
      trial.load(spec, definition);
    } catch {
      continue;
    }
    for (const p of spec.params) {
      const value = live.bank.get(p.index)?.base;
      if (value !== undefined) trial.bank.setBase(p.index, value);
    }
    for (const g of spec.gates) gates.push(g.index);
  }
  const frames = Math.round(seconds * live.sampleRate);
  const period = Math.round(GATE_PERIOD_S * live.sampleRate);
  for (let at = 0; at < frames; at += period) {
    for (const g of gates) {
      trial.queue.insert(at, EventKind.Gate, g, 1);
      trial.queue.insert(at + period / 2, EventKind.Gate, g, 0);
    }
  }
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  for (let done = 0; done < frames; done += n) {
    trial.renderBlock(l, r, n);
    trial.housekeeping();
  }
  for (const { spec } of trial.versions()) {
    try {
      trial.unload(spec.pluginId);
    } catch {
      // Disposing a scratch instance that throws leaves nothing the live graph uses.
    }
  }
}

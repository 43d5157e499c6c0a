/**
 * Hang-to-sound (issue "Containment"): a real-time engine on the null backend with 32 voices and
 * every effect, plus a plugin that loops forever in process() when its `hang` parameter is set.
 * Each round opens the gates, sets `hang`, waits for the watchdog to replace the audio thread, checks
 * the voices sound again, then clears `hang` and reloads the plugin (out of quarantine).
 *
 *   npm run bench -- hang-recovery [--hangs 20] [--voices 32] [--watchdog-ms 100]
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { Slot } from '../kernel/audio/shared-state.ts';
import { PROJECT_ROOT } from '../test/helpers/offline-engine.ts';
import { HANG_ON_PARAM, writeEffectPlugin } from '../test/helpers/hanging-plugins.ts';

const { values } = parseArgs({ options: { hangs: { type: 'string', default: '20' }, voices: { type: 'string', default: '32' }, 'watchdog-ms': { type: 'string', default: '100' } } });

const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-hang-'));
await mkdir(path.join(root, 'config'));
await cp(path.join(PROJECT_ROOT, 'config/default.json'), path.join(root, 'config/default.json'));
for (const p of ['voices', 'distortion', 'reverb', 'delay', 'limiter', 'lfo']) await cp(path.join(PROJECT_ROOT, 'plugins', p), path.join(root, 'plugins', p), { recursive: true });
const folder = await writeEffectPlugin(path.join(root, 'plugins'), 'hanger', 'hang1', HANG_ON_PARAM);
const config = loadConfig({ root, env: {} });
config.engine.numVoices = Number(values.voices);
config.audio.watchdogMs = Number(values['watchdog-ms']);
const engine = await Engine.start({ config, root, backend: 'null', listen: false, status: false, watch: false, log: process.env.CHRONUS_BENCH_LOG ? new Logger() : Logger.silent() });
const v = engine.audio.shared.values;
const hang = engine.registry.modules.get('hang1')!.params.get('hang')!.index;
for (let i = 1; i <= config.engine.numVoices; i++) engine.control.gate(engine.registry.modules.get(`voice${i}`)!.gate!, 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silences: number[] = [];
const comebacks: number[] = [];
for (let round = 0; round < Number(values.hangs); round++) {
  // Hangs are rare in life: the host has its standby audio thread loaded again, and the fresh
  // thread's cold-code grace (kernel/host/audio-recovery.ts) is over.
  await sleep(2500);
  const restarts = engine.recovery!.status.restarts;
  engine.control.set(hang, 1);
  while (engine.recovery!.status.restarts === restarts) await sleep(5);
  silences.push(engine.recovery!.status.lastSilenceMs);
  const frames = v[Slot.FramesRendered];
  while (v[Slot.FramesRendered] < frames + 4800) await sleep(5);
  if (!(Math.max(v[Slot.PeakL], v[Slot.PeakR]) > 0)) {
    const slots = await engine.audio.call('plugins');
    throw new Error(`no sound after restart ${round + 1}: gates ${v[Slot.ActiveGates]}, plugins ${JSON.stringify(slots.map((p) => [p.pluginId, p.bypassed, p.lastError.split('\n')[0]]))}; last ${JSON.stringify(engine.recovery!.status.last)}; quarantined ${[...engine.plugins.quarantined.keys()]}`);
  }
  engine.control.set(hang, 0);
  const t0 = performance.now();
  await engine.plugins.load(folder);
  comebacks.push(performance.now() - t0);
}
const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];
process.stdout.write(`hang-recovery: ${silences.length} hangs, ${config.engine.numVoices} voices, watchdog ${config.audio.watchdogMs} ms\n`);
process.stdout.write(`  hang-to-sound silence: p50 ${q(silences, 0.5).toFixed(0)} ms, max ${Math.max(...silences).toFixed(0)} ms\n`);
process.stdout.write(`  quarantined plugin back after its file is fixed (reload incl. 1 s trial): p50 ${q(comebacks, 0.5).toFixed(0)} ms, max ${Math.max(...comebacks).toFixed(0)} ms\n`);
process.stdout.write(`  xruns ${v[Slot.Xruns]} (each hang is one by nature)\n`);
await engine.stop();
await rm(root, { recursive: true, force: true });

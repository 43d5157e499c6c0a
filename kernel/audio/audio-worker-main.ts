/**
 * The audio thread. Owns the AudioEngine and the backend that paces it; answers calls from the
 * control thread between blocks. Nothing here runs inside a block except `engine.renderBlock`.
 */
import { raiseAudioThreadPriority } from '../platform/thread-priority.ts';
import { pinThisThread } from '../platform/cpu-affinity.ts';
import { thisTaskId } from '../platform/thread-tools.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { AudioEngine } from './audio-engine.ts';
import { ControlRing } from './control-ring.ts';
import { SharedState, Slot } from './shared-state.ts';
import { blepTable } from '../../plugin-sdk/dsp/index.ts';
import { TapRing } from './tap-ring.ts';
import type { AudioCall } from '../host/audio-host.ts';
import { CODE_NOT_HERE, type PrepareSpec, type SlotSpec } from './slot-spec.ts';
import { StandbyPrime } from './standby-prime.ts';
import { PreparedLoads } from './prepared-loads.ts';
import { answerStaging, type StagingAnswer, type StagingRequest } from '../plugins/staging-requests.ts';
import type { WorkerData } from './worker-data.ts';
import type { Backend } from './backends/backend.ts';
import { createNullBackend } from './backends/null-backend.ts';
import { warmUp } from './warm-up.ts';
import { createDeviceBackend } from './backends/device-backend.ts';

let data = workerData as WorkerData;
/** Audio the warm-up plays privately before the clock starts (≈ 0.15 s of start-up at 32 voices). */
const WARM_UP_SECONDS = 0.5;
const port = parentPort!;
// The band-limited oscillators' table is built once per thread; build it now, not in the first create().
blepTable();

/**
 * Until it is activated this worker is a standby: its code is loaded and nothing is opened, so that
 * it can replace a hung audio thread at once (kernel/host/worker-host.ts keeps one ready).
 */
export interface Activation {
  /** The first frame this thread renders (0 at start; where the last one stopped after a restart). */
  startFrame: number;
  /** Warm the plugins up before the clock starts (skipped after a restart: sound back first). */
  warmUp: boolean;
  backend: 'null' | 'device';
  /** The device thread's ring (device backend), known only once the card has opened. */
  output: Pick<WorkerData, 'outputRing' | 'outputRingSlots' | 'streamBlocks'> | null;
}
const primed = new StandbyPrime(data.sampleRate, data.blockSize, data.smoothingMs);
const activation = await new Promise<Activation>((resolve) => {
  const onMessage = (m: Activation | { prime: SlotSpec[] } | { staging: StagingRequest }) => {
    if ('prime' in m) {
      const missing = primed.prime(m.prime);
      if (missing.length > 0) port.postMessage({ primeMissing: missing });
      return;
    }
    // The standby tries new versions (kernel/plugins/plugin-staging.ts); one that passes is primed with the module it was tried as.
    if ('staging' in m) {
      port.postMessage({ staged: answerStaging(m.staging, (slotId, definition) => primed.keep(slotId, definition)) });
      return;
    }
    port.off('message', onMessage);
    resolve(m);
  };
  port.on('message', onMessage);
  port.postMessage({ standby: true });
});

if (activation.output) data = { ...data, ...activation.output };
// Its CPU and real-time priority are set by child processes (taskset, chrt: 10–40 ms together), which
// run while the plugins load and warm up; the clock starts once both are done.
const scheduled = Promise.all([data.audioCpu !== null && pinThisThread(data.audioCpu), raiseAudioThreadPriority()]);
const engine = new AudioEngine(data.sampleRate, data.blockSize, data.smoothingMs, new ControlRing(data.ring), new ControlRing(data.reports), new SharedState(data.shared));
const wake = new Int32Array(data.wake);
engine.equalPowerFades = data.equalPowerFades ?? false;
// A fresh audio thread after a hang carries on the timeline where the hung one stopped.
engine.frame = activation.startFrame;
engine.shared.values[Slot.AudioTid] = thisTaskId();
engine.outputTap = new TapRing(data.outputTap, 0, 2);
engine.journal = new ControlRing(data.journal);
let backend: Backend;
try {
  backend = activation.backend === 'device' ? createDeviceBackend(engine, data, wake) : createNullBackend(engine, data, wake);
} catch (e) {
  port.postMessage({ ready: false, error: (e as Error)?.message ?? String(e) });
  process.exit(0);
}

let warmed = false;
const loads = new PreparedLoads((data.blockSize / data.sampleRate) * 1000, data.leadBlocks);
port.on('message', async (m: { id: number; method: AudioCall | 'close' | 'run' | 'warmUp'; args: unknown[] } | { prepare: PrepareSpec } | { staging: StagingRequest }) => {
  if ('prepare' in m) {
    loads.prepare(engine, m.prepare, (blocks) => backend.renderAhead?.(blocks));
    return;
  }
  // The audio thread tries nothing: a request sent before the control thread knew goes to the next standby.
  if ('staging' in m) {
    port.postMessage({ staged: { id: m.staging.id, ok: false, message: 'the standby became the audio thread', elsewhere: true } satisfies StagingAnswer });
    return;
  }
  if (m.method === 'close') {
    await backend.stop();
    port.postMessage({ id: m.id, result: null });
    port.close();
    return;
  }
  if (m.method === 'warmUp' || m.method === 'run') {
    // The clock starts only once the initial plugins are in and warm, so neither loading nor the
    // first notes' cold code makes a block late. The warm-up may come first on its own (once the
    // audio halves are in, while the control thread starts the control halves).
    if (activation.warmUp && !warmed) warmUp(engine, data.smoothingMs, WARM_UP_SECONDS);
    warmed = true;
    if (m.method === 'run') {
      await scheduled;
      backend.start();
    }
    port.postMessage({ id: m.id, result: null });
    return;
  }
  // A new version's create runs cold code (≈ 3–30 ms), a snapshot copies every plugin's memories:
  // render a lead's worth of blocks first, so the stall it causes is absorbed twice over
  // (kernel/audio/backends/backend.ts).
  // A load renders ahead only what its plugin's create needs (kernel/audio/prepared-loads.ts).
  if (m.method === 'load') backend.renderAhead?.(loads.aheadFor('load', (m.args[0] as SlotSpec).pluginId));
  else if (m.method === 'setState' || m.method === 'resetPlugin' || m.method === 'snapshot') backend.renderAhead?.(data.leadBlocks);
  try {
    const fn = engine[m.method] as (...a: unknown[]) => unknown;
    const began = performance.now();
    // Marked as the plugin's call between blocks, so the watchdog can name a plugin that hangs in it.
    const target = m.args[0];
    const slotId = m.method === 'load' ? (target as SlotSpec).slotId : typeof target === 'string' ? engine.slotIdOf(target) : 0;
    const prepared = m.method === 'load' ? loads.take(target as SlotSpec) : undefined;
    const spec = prepared?.spec ?? (target as SlotSpec);
    if (m.method === 'load' && prepared === undefined && spec.codeByReference) throw Object.assign(new Error('the code of this version is not here'), { code: CODE_NOT_HERE });
    const definition = m.method === 'load' ? (prepared?.definition ?? primed.definition(spec)) : undefined;
    const result = engine.between(slotId, () => (definition ? engine.load(spec, definition) : fn.apply(engine, m.args)));
    const took = performance.now() - began;
    if (took > engine.shared.values[Slot.MaxCallMs]) engine.shared.values[Slot.MaxCallMs] = took;
    if (m.method === 'load') loads.took('load', (target as SlotSpec).pluginId, took);
    port.postMessage({ id: m.id, result, frame: engine.frame });
  } catch (e) {
    // The message for replies; the stack so the control thread can say where in the plugin it happened.
    // The code too (a plugin's coded error: the router puts it in the /error reply).
    const code = (e as { code?: unknown })?.code;
    port.postMessage({ id: m.id, error: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack ?? String(e), code: typeof code === 'string' ? code : undefined, frame: engine.frame });
  }
});

port.postMessage({ ready: true });

/**
 * The audio thread. Owns the AudioEngine and the backend that paces it; answers calls from the
 * control thread between blocks. Nothing here runs inside a block except `engine.renderBlock`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AudioEngine } from './audio-engine.ts';
import { ControlRing } from './control-ring.ts';
import { SharedState } from './shared-state.ts';
import type { AudioCall } from './audio-host.ts';
import type { WorkerData } from './worker-host.ts';
import { runNullBackend } from './backends/null-backend.ts';
import { runDeviceBackend } from './backends/device-backend.ts';

const data = workerData as WorkerData;
const port = parentPort!;
const engine = new AudioEngine(data.sampleRate, data.blockSize, data.smoothingMs, new ControlRing(data.ring), new ControlRing(data.reports), new SharedState(data.shared));
const wake = new Int32Array(data.wake);
let stopBackend: () => Promise<void> = async () => {};

port.on('message', async (m: { id: number; method: AudioCall | 'close'; args: unknown[] }) => {
  if (m.method === 'close') {
    await stopBackend();
    port.postMessage({ id: m.id, result: null });
    port.close();
    return;
  }
  try {
    const fn = engine[m.method] as (...a: unknown[]) => unknown;
    port.postMessage({ id: m.id, result: fn.apply(engine, m.args) });
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error)?.stack ?? String(e) });
  }
});

try {
  stopBackend = data.backend === 'device' ? await runDeviceBackend(engine, data, wake) : runNullBackend(engine, data, wake);
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: (e as Error)?.message ?? String(e) });
}

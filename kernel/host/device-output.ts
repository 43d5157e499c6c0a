/**
 * The device thread's handle (control thread): starts the thread that owns the sound card
 * (kernel/audio/backends/device-output-main.ts) and the output ring the audio thread fills. The device
 * thread outlives any audio thread: after a hang the audio thread is replaced and the card plays on.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { DeviceOutputData } from '../audio/backends/device-output-main.ts';
import { OutputRing } from '../audio/backends/output-ring.ts';
import type { SharedState } from '../audio/shared-state.ts';

const WORKER_ENTRY = fileURLToPath(new URL('./device-output.mjs', import.meta.url));

const STOP_TIMEOUT_MS = 1500;

export class DeviceOutput {
  private constructor(
    private readonly worker: Worker,
    readonly ring: OutputRing,
    readonly streamBlocks: number,
  ) {}

  /** Opens the device; rejects with PortAudio's reason (e.g. no default device). */
  static async open(options: { sampleRate: number; blockSize: number; leadBlocks: number; device: string | null; shared: SharedState; wake: SharedArrayBuffer }): Promise<DeviceOutput> {
    // The lead (audio.leadBlocks) waits in the ring; the stream's own buffer takes one block at a time
    // (naudiodon's native queue holds more). Against JACK's dummy driver on a loaded machine this
    // underflowed less than the stream holding the lead itself (6 against 15 in the same 12 s).
    const streamBlocks = 1;
    // Room for the lead and for the blocks rendered ahead before a plugin loads (backend.ts).
    const ring = new OutputRing(options.blockSize, 2 * options.leadBlocks + 2);
    const data: DeviceOutputData = {
      sampleRate: options.sampleRate,
      blockSize: options.blockSize,
      streamBlocks,
      device: options.device,
      ring: ring.buffer,
      ringSlots: ring.slots,
      shared: options.shared.buffer,
      wake: options.wake,
    };
    const worker = new Worker(WORKER_ENTRY, { workerData: data });
    await reply(worker, 'ready');
    return new DeviceOutput(worker, ring, streamBlocks);
  }

  private started = false;

  /** Starts the stream (the audio thread has queued its lead); once: a replaced audio thread finds it playing. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const started = reply(this.worker, 'started');
    this.worker.postMessage({ method: 'start' });
    await started;
  }

  /** Stops the stream, then the thread. */
  async close(): Promise<void> {
    const stopped = reply(this.worker, 'stopped').catch(() => undefined);
    this.worker.postMessage({ method: 'stop' });
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref())]);
    await this.worker.terminate();
  }
}

/** The worker's next `{ [flag]: … }` message; a `ready: false` carries the reason. */
function reply(worker: Worker, flag: 'ready' | 'started' | 'stopped'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (!(flag in m)) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      if (m[flag] === false) void worker.terminate().then(() => reject(new Error(String(m.error))));
      else resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

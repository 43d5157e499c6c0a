/**
 * The real-time AudioHost: the engine runs in a worker thread paced by the null or device backend.
 * Calls travel by postMessage and are followed by `Atomics.notify` so a sleeping null backend wakes
 * and handles them within a block.
 */
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ControlRing } from './control-ring.ts';
import { SharedState } from './shared-state.ts';
import { TapRing } from './tap-ring.ts';
import { reserveAudioCpu, type AudioCpu } from './cpu-affinity.ts';
import { OUTPUT_TAP_FRAMES, RING_CAPACITY, type AudioCall, type AudioCalls, type AudioHost, type AudioOptions } from './audio-host.ts';

export interface WorkerData extends AudioOptions {
  backend: 'null' | 'device';
  leadBlocks: number;
  device: string | null;
  ring: SharedArrayBuffer;
  reports: SharedArrayBuffer;
  shared: SharedArrayBuffer;
  wake: SharedArrayBuffer;
  outputTap: SharedArrayBuffer;
  /** The CPU the audio thread keeps to itself (kernel/cpu-affinity.ts), or null. */
  audioCpu: number | null;
}

const WORKER_ENTRY = fileURLToPath(new URL('./audio-worker.mjs', import.meta.url));

export class WorkerHost implements AudioHost {
  readonly sampleRate: number;
  readonly blockSize: number;
  private readonly pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited = false;
  /** The CPU reserved for the audio thread, given back on close. */
  audioCpu: AudioCpu | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly backend: 'null' | 'device',
    options: AudioOptions,
    readonly ring: ControlRing,
    readonly reports: ControlRing,
    readonly shared: SharedState,
    private readonly wake: Int32Array,
    readonly outputTap: TapRing,
  ) {
    this.sampleRate = options.sampleRate;
    this.blockSize = options.blockSize;
  }

  /** Start the audio thread on `backend`; rejects with the backend's reason if it cannot start. */
  static async start(backend: 'null' | 'device', options: AudioOptions & { leadBlocks: number; device: string | null; dedicatedCpu: boolean }): Promise<WorkerHost> {
    const ring = new ControlRing(RING_CAPACITY);
    const reports = new ControlRing(1024);
    const shared = new SharedState();
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const outputTap = new TapRing(2, OUTPUT_TAP_FRAMES);
    // Before the worker exists, so that it and every thread started later inherit the other CPUs.
    const audioCpu = options.dedicatedCpu ? reserveAudioCpu() : null;
    const data: WorkerData = { ...options, backend, ring: ring.buffer, reports: reports.buffer, shared: shared.buffer, wake: wake.buffer, outputTap: outputTap.buffer, audioCpu: audioCpu?.cpu ?? null };
    // V8's memory reducer shrinks a heap that has gone quiet with full mark-compacts run as tasks on
    // that thread: on the audio worker, 2–7 ms pauses a few seconds after start and after every burst
    // of reloads (measured with --trace-gc). The flag is process-wide and read when the worker's
    // heap is set up; the audio heap does not need shrinking.
    v8.setFlagsFromString('--no-memory-reducer');
    const worker = new Worker(WORKER_ENTRY, { workerData: data });
    const host = new WorkerHost(worker, backend, options, ring, reports, shared, wake, outputTap);
    host.audioCpu = audioCpu;
    const ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: { ready?: boolean; error?: string }) => {
        if (m.ready === undefined) return;
        worker.off('message', onReady);
        if (m.ready) resolve();
        else void worker.terminate().then(() => reject(new Error(m.error)));
      };
      worker.on('message', onReady);
      worker.once('error', reject);
    });
    await ready.catch((e: unknown) => {
      audioCpu?.restore();
      throw e;
    });
    worker.on('message', (m: { id?: number; result?: unknown; error?: string; stack?: string }) => {
      if (m.id === undefined) return;
      const p = host.pending.get(m.id);
      host.pending.delete(m.id);
      if (m.error !== undefined) {
        const error = new Error(m.error);
        if (m.stack) error.stack = m.stack;
        p?.reject(error);
      } else p?.resolve(m.result as never);
    });
    worker.on('exit', () => {
      host.exited = true;
      for (const p of host.pending.values()) p.reject(new Error('the audio thread has stopped'));
      host.pending.clear();
    });
    return host;
  }

  /** Wake the audio thread so it sees new ring records or messages within a block. */
  notify(): void {
    Atomics.notify(this.wake, 0);
  }

  /** Start the backend's clock (after the initial plugins are loaded). */
  run(): Promise<void> {
    return this.send('run', []) as Promise<void>;
  }

  call<K extends AudioCall>(method: K, ...args: Parameters<AudioCalls[K]>): Promise<ReturnType<AudioCalls[K]>> {
    return this.send(method, args) as Promise<ReturnType<AudioCalls[K]>>;
  }

  private send(method: string, args: unknown[]): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('the audio thread has stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage({ id, method, args });
      this.notify();
    });
  }

  async close(): Promise<void> {
    if (!this.exited) {
      await this.send('close', []).catch(() => undefined);
      await this.worker.terminate();
    }
    this.audioCpu?.restore();
    this.audioCpu = null;
  }
}

/**
 * The real-time AudioHost: the engine runs in a worker thread paced by the null or device backend.
 * Calls travel by postMessage and are followed by `Atomics.notify` so a sleeping null backend wakes
 * and handles them within a block. The rings and shared figures outlive the worker: after a hang the
 * worker is replaced (`restart`) and the control thread keeps the same handles.
 */
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { ControlRing } from '../audio/control-ring.ts';
import { SharedState, Slot } from '../audio/shared-state.ts';
import { TapRing } from '../audio/tap-ring.ts';
import { reserveAudioCpu, type AudioCpu } from '../platform/cpu-affinity.ts';
import { DeviceOutput } from './device-output.ts';
import type { Activation } from '../audio/audio-worker-main.ts';
import { byReference, CODE_NOT_HERE, type PrepareSpec, type SlotSpec } from '../audio/slot-spec.ts';
import { AudioStoppedError, JOURNAL_CAPACITY, OUTPUT_TAP_FRAMES, RING_CAPACITY, type AudioCall, type AudioCalls, type AudioHost, type CallObserver } from './audio-host.ts';
import type { AudioOptions, WorkerData } from '../audio/worker-data.ts';
import type { TrialThreads } from '../plugins/plugin-staging.ts';

export interface RealtimeOptions extends AudioOptions {
  leadBlocks: number;
  device: string | null;
  dedicatedCpu: boolean;
}

const WORKER_ENTRY = fileURLToPath(new URL('./audio-worker.mjs', import.meta.url));
/** How long a standby may take to answer its activation before a fresh worker is loaded instead. */
const STANDBY_TIMEOUT_MS = 1000;
/** Quiet time after the last plugin change before the standby is primed again. */
const PRIME_DELAY_MS = 1000;
/** How long `close` waits for the audio thread to stop its backend before terminating it. */
const CLOSE_TIMEOUT_MS = 500;
/** V8's smallest young generation (2 × 1 MiB): its default grew to 32 MiB per audio thread, and scavenged up to 16 MiB in one pause. */
const AUDIO_YOUNG_MB = 3;

export class WorkerHost implements AudioHost {
  readonly sampleRate: number;
  readonly blockSize: number;
  private readonly pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void; method: string; args: unknown[] }>();
  readonly journal = new ControlRing(JOURNAL_CAPACITY);
  onCall: CallObserver | null = null;
  private nextId = 1;
  private worker: Worker | null = null;
  /** A worker with the code loaded and nothing opened, ready to replace a hung audio thread at once. */
  private standby: Promise<Worker> | null = null;
  /** The standby once loaded (null while it loads, once taken or ended). */
  private standbyWorker: Worker | null = null;
  /** The plugin versions the standby should have ready (kernel/audio/standby-prime.ts), the latest only. */
  private primeSpecs: SlotSpec[] | null = null;
  /** The version last evaluated ahead on an audio thread (`prepare`), by plugin id: its `load` goes there without the code. */
  private readonly prepared = new Map<string, { slotId: number; worker: Worker }>();
  private primeTimer: NodeJS.Timeout | undefined;
  /** Standbys given up on (too slow to activate): if one answers late, it is not taken. */
  private readonly abandoned = new WeakSet<Worker>();
  /** The thread that owns the sound card (device backend), which outlives any audio thread. */
  private output: DeviceOutput | null = null;
  /** Told when the audio thread ends without being asked to (the engine then replaces it). */
  onUnexpectedExit: ((code: number) => void) | null = null;

  /** Resolves once the audio thread is up (`open`); null before `open` is called. */
  private opening: Promise<void> | null = null;
  /** `open` has finished (either way). */
  private opened = false;

  private constructor(
    /** 'null' until `open` finds a sound card. */
    public backend: 'null' | 'device',
    private readonly options: RealtimeOptions,
    readonly ring: ControlRing,
    readonly reports: ControlRing,
    readonly shared: SharedState,
    private readonly wake: Int32Array,
    readonly outputTap: TapRing,
    /** The CPU reserved for the audio thread, given back on close. */
    public audioCpu: AudioCpu | null,
  ) {
    this.sampleRate = options.sampleRate;
    this.blockSize = options.blockSize;
  }

  /**
   * The host at once (rings and shared figures exist, so the engine can be built around it); the
   * audio thread comes with `open`, and calls made before it is up wait for it.
   */
  static create(options: RealtimeOptions): WorkerHost {
    // Before the worker exists, so that it and every thread started later inherit the other CPUs.
    const audioCpu = options.dedicatedCpu ? reserveAudioCpu() : null;
    return new WorkerHost('null', options, new ControlRing(RING_CAPACITY), new ControlRing(1024), new SharedState(), new Int32Array(new SharedArrayBuffer(4)), new TapRing(2, OUTPUT_TAP_FRAMES), audioCpu);
  }

  /** Start the audio thread on `backend`; rejects with the backend's reason if it cannot start. */
  static async start(backend: 'null' | 'device', options: RealtimeOptions): Promise<WorkerHost> {
    const host = WorkerHost.create(options);
    await host.open(backend);
    return host;
  }

  /**
   * Start the audio thread: on the sound card (`device`), on the null backend (`null`), or on the card
   * if one opens and else the null backend (`auto`: `onNoDevice` hears why). The worker loads while
   * the card is probed. Rejects with the backend's reason if it cannot start.
   */
  open(choice: 'auto' | 'device' | 'null', onNoDevice?: (reason: string) => void): Promise<void> {
    this.opening = this.openNow(choice, onNoDevice);
    // Calls waiting for the thread fail with the reason; whoever called open hears it too.
    this.opening.catch(() => undefined);
    return this.opening;
  }

  private async openNow(choice: 'auto' | 'device' | 'null', onNoDevice?: (reason: string) => void): Promise<void> {
    const loading = this.load();
    try {
      if (choice !== 'null') {
        try {
          this.output = await DeviceOutput.open({ ...this.options, shared: this.shared, wake: this.wake.buffer as SharedArrayBuffer });
          this.backend = 'device';
        } catch (e) {
          if (choice === 'device') throw e;
          onNoDevice?.((e as Error).message.split('\n')[0]);
        }
      }
      // The first thread is activated without the standby's time limit (a loaded machine may take a while).
      await this.activate(await loading, 0, true, this.backend);
    } catch (e) {
      void loading.then((w) => w.terminate(), () => undefined);
      await this.output?.close();
      this.output = null;
      this.audioCpu?.restore();
      this.audioCpu = null;
      throw e;
    } finally {
      this.opened = true;
    }
  }

  /** A new worker, loaded and waiting for `activate` (kernel/audio/audio-worker-main.ts). */
  private async load(): Promise<Worker> {
    const { dedicatedCpu: _dedicated, ...options } = this.options;
    const data: WorkerData = {
      ...options,
      ring: this.ring.buffer,
      reports: this.reports.buffer,
      journal: this.journal.buffer,
      shared: this.shared.buffer,
      wake: this.wake.buffer as SharedArrayBuffer,
      outputTap: this.outputTap.buffer,
      audioCpu: this.audioCpu?.cpu ?? null,
      // The device thread's ring comes with the activation (the worker loads while the card is probed).
      outputRing: null,
      outputRingSlots: 0,
      streamBlocks: 0,
    };
    // V8's memory reducer shrinks a heap that has gone quiet with full mark-compacts run as tasks on
    // that thread: on the audio worker, 2–7 ms pauses a few seconds after start and after every burst
    // of reloads (measured with --trace-gc). The flag is process-wide and read when the worker's
    // heap is set up; the audio heap does not need shrinking.
    v8.setFlagsFromString('--no-memory-reducer');
    const worker = new Worker(WORKER_ENTRY, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: AUDIO_YOUNG_MB } });
    await new Promise<void>((resolve, reject) => {
      const onLoaded = (m: { standby?: boolean }) => {
        if (m.standby !== true) return;
        worker.off('message', onLoaded);
        worker.off('error', reject);
        resolve();
      };
      worker.on('message', onLoaded);
      worker.once('error', reject);
    });
    return worker;
  }

  /** Keep a standby worker loading (failures only mean the next restart loads one itself). */
  private prepareStandby(): Promise<Worker> {
    const standby = this.load();
    standby.then(
      (worker) => {
        if (this.standby !== standby) return;
        this.standbyWorker = worker;
        // A prime names versions by reference: those the standby has not evaluated yet are sent again with their code.
        worker.on('message', (m: { primeMissing?: number[] }) => {
          if (m.primeMissing !== undefined && worker === this.standbyWorker) this.sendPrime(new Set(m.primeMissing));
        });
        // What ended it (a trial out of memory) is the stager's to report; a new standby takes its place.
        worker.on('error', () => undefined);
        worker.once('exit', () => this.replaceStandby(worker));
        this.sendPrime();
      },
      () => {
        if (this.standby === standby) this.standby = null;
      },
    );
    this.standby = standby;
    return standby;
  }

  /**
   * New versions are tried in the standby (kernel/plugins/plugin-staging.ts): no thread of their own.
   * One that hangs or takes too much memory costs the standby, never the live audio thread: another
   * standby loads at once, and a recovery meanwhile activates that one when it is ready (or loads
   * its own: `spawn`).
   */
  readonly trials: TrialThreads = {
    acquire: () => this.standby ?? this.prepareStandby(),
    discard: (worker) => {
      if (worker === this.worker) return;
      void worker.terminate();
      this.replaceStandby(worker);
    },
    idle: () => undefined,
    // The standby is closed with the host.
    close: async () => undefined,
  };

  /** `worker`, the standby, has ended or is ending: load another in its place. */
  private replaceStandby(worker: Worker): void {
    if (this.standbyWorker !== worker) return;
    this.standbyWorker = null;
    this.prepareStandby();
  }

  /**
   * The plugin versions now live: the standby evaluates and plays them privately, a second after the
   * last change (a burst of reloads primes once).
   */
  prime(specs: SlotSpec[]): void {
    this.primeSpecs = specs;
    clearTimeout(this.primeTimer);
    this.primeTimer = setTimeout(() => this.sendPrime(), PRIME_DELAY_MS);
    this.primeTimer.unref();
  }

  prepare(spec: PrepareSpec): void {
    if (this.worker === null) return;
    this.worker.postMessage({ prepare: spec });
    this.prepared.set(spec.pluginId, { slotId: spec.slotId, worker: this.worker });
  }

  /**
   * Primes the standby with the versions live now: by reference (it tried most of them itself, and
   * keeps what it evaluated by slot id), with the code only for `withCode` (those it said it lacks).
   */
  private sendPrime(withCode: ReadonlySet<number> = new Set()): void {
    const specs = this.primeSpecs;
    if (specs === null) return;
    const prime = specs.map((s) => (withCode.has(s.slotId) ? s : byReference(s)));
    void this.standby?.then((w) => w.postMessage({ prime })).catch(() => undefined);
  }

  /**
   * A version's load: without its code where this audio thread evaluated it ahead (`prepare`), with it
   * otherwise or when the thread answers that it no longer holds it.
   */
  private async loadVersion(spec: SlotSpec): Promise<unknown> {
    const prepared = this.prepared.get(spec.pluginId);
    this.prepared.delete(spec.pluginId);
    if (prepared?.slotId === spec.slotId && prepared.worker === this.worker) {
      try {
        return await this.send('load', [spec], [byReference(spec)]);
      } catch (e) {
        if ((e as { code?: unknown }).code !== CODE_NOT_HERE) throw e;
      }
    }
    return this.send('load', [spec]);
  }

  /** Make a loaded worker the audio thread: it opens the backend and answers calls from now on. */
  private async activate(worker: Worker, startFrame: number, warmUp: boolean, backend: 'null' | 'device'): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onReady = (m: { ready?: boolean; error?: string }) => {
        if (m.ready === undefined) return;
        worker.off('message', onReady);
        if (m.ready) resolve();
        else void worker.terminate().then(() => reject(new Error(m.error)));
      };
      worker.on('message', onReady);
      worker.once('error', reject);
      const output = this.output ? { outputRing: this.output.ring.buffer, outputRingSlots: this.output.ring.slots, streamBlocks: this.output.streamBlocks } : null;
      worker.postMessage({ startFrame, warmUp, backend, output } satisfies Activation);
    });
    if (this.abandoned.has(worker)) throw new Error('abandoned');
    worker.on('message', (m: { id?: number; result?: unknown; error?: string; stack?: string; code?: string; frame?: number }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      // A load by reference that is sent again with its code is one call.
      if (p !== undefined && m.frame !== undefined && m.code !== CODE_NOT_HERE) this.onCall?.(p.method as AudioCall, p.args, m.frame, m.error !== undefined, m.result);
      if (m.error !== undefined) {
        const error = Object.assign(new Error(m.error), m.code === undefined ? {} : { code: m.code });
        if (m.stack) error.stack = m.stack;
        p?.reject(error);
      } else p?.resolve(m.result as never);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.shared.values[Slot.Running] = 0;
      this.failPending();
      this.onUnexpectedExit?.(code);
    });
    this.worker = worker;
  }

  private async spawn(startFrame: number, warmUp: boolean): Promise<void> {
    const standby = await this.standby?.catch(() => null);
    this.standby = null;
    this.standbyWorker = null;
    try {
      if (!standby) throw new Error('no standby');
      // A standby busy priming a version that loops would never answer: give it a bounded time.
      await withTimeout(this.activate(standby, startFrame, warmUp, this.backend), STANDBY_TIMEOUT_MS);
    } catch {
      if (standby) {
        this.abandoned.add(standby);
        void standby.terminate();
      }
      await this.activate(await this.load(), startFrame, warmUp, this.backend);
    }
    // A trial may have asked for one meanwhile (kernel/plugins/plugin-staging.ts).
    if (this.standby === null) this.prepareStandby();
  }

  private failPending(): void {
    for (const p of this.pending.values()) p.reject(new AudioStoppedError());
    this.pending.clear();
  }

  /**
   * Replace the audio thread, whatever it is doing (an endless loop included): terminate it and start
   * a fresh one that carries on the timeline where it stopped, with no plugins. Calls in flight fail.
   * Call `run` once the plugins are back.
   */
  async restart(): Promise<void> {
    await this.abort();
    await this.spawn(this.shared.values[Slot.FramesRendered], false);
  }

  /** End the audio thread now, whatever it is doing; calls in flight fail. `restart` starts another. */
  async abort(): Promise<void> {
    const old = this.worker;
    this.worker = null;
    this.shared.values[Slot.Running] = 0;
    this.shared.values[Slot.RunningSlot] = 0;
    this.failPending();
    await old?.terminate();
  }

  /** Wake the audio thread so it sees new ring records or messages within a block. */
  notify(): void {
    Atomics.notify(this.wake, 0);
  }

  /** Warm the loaded plugins up now, on the audio thread, while this thread goes on (`run` then starts at once). */
  warmUp(): void {
    this.send('warmUp', []).catch(() => undefined);
  }

  /** Start the backend's clock (after the initial plugins are loaded); the device's stream too, the first time. */
  async run(): Promise<void> {
    await this.send('run', []);
    await this.output?.start();
    // The standby loads once the clock runs, not beside the start's own work (2 cores: it cost the start ~0.1 s).
    if (this.standby === null) this.prepareStandby();
  }

  call<K extends AudioCall>(method: K, ...args: Parameters<AudioCalls[K]>): Promise<ReturnType<AudioCalls[K]>> {
    return (method === 'load' ? this.loadVersion(args[0] as SlotSpec) : this.send(method, args)) as Promise<ReturnType<AudioCalls[K]>>;
  }

  /** `sent`: what goes to the thread, when not `args` as they are (a spec by reference); observers see `args`. */
  private send(method: string, args: unknown[], sent: unknown[] = args): Promise<unknown> {
    const worker = this.worker;
    // Not up yet (still opening): the call goes once it is.
    if (worker === null && this.opening && !this.opened) return this.opening.then(() => this.send(method, args, sent));
    if (worker === null) return Promise.reject(new AudioStoppedError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject, method, args });
      worker.postMessage({ id, method, args: sent });
      this.notify();
    });
  }

  /** Stops the backend and the thread; a thread that does not answer (hung) is terminated. */
  async close(): Promise<void> {
    // A thread still starting is let finish, so that it is closed too and not left running.
    await this.opening?.catch(() => undefined);
    const worker = this.worker;
    if (worker !== null) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
      await Promise.race([this.send('close', []).catch(() => undefined), timeout]);
      clearTimeout(timer);
      this.worker = null;
      this.failPending();
      await worker.terminate();
    }
    clearTimeout(this.primeTimer);
    const standby = this.standby;
    this.standby = null;
    this.standbyWorker = null;
    await standby?.then((w) => w.terminate()).catch(() => undefined);
    await this.output?.close();
    this.output = null;
    this.shared.values[Slot.Running] = 0;
    this.audioCpu?.restore();
    this.audioCpu = null;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

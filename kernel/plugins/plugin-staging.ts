/**
 * Trying a plugin version before it goes live (control thread side). The work runs in another thread
 * with a time limit — the standby audio thread in real time (kernel/host/worker-host.ts), else a
 * staging worker of its own (below) — so a version that loops forever, calls what it must not or
 * allocates gigabytes is refused there and never reaches the audio thread, and never stalls this
 * thread either. A thread that hung or took too much memory is ended and another takes the next
 * request.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { StagingAnswer, StagingRequest } from './staging-requests.ts';
import type { StagingReport, TrialRequest } from './plugin-trial.ts';
import { codeHash, passedBefore, recordPass } from './trial-cache.ts';
import { byReference as byReferenceSpec } from '../audio/slot-spec.ts';

export type { StagingReport } from './plugin-trial.ts';

export class StagingError extends Error {}

export interface StagerOptions {
  /** How long one evaluation or trial may take before the version is refused as hung. */
  timeoutMs: number;
  /** Memory one version may take (heap and array buffers). */
  memoryMb: number;
}

/** The threads that answer staging requests (kernel/plugins/staging-requests.ts). */
export interface TrialThreads {
  /** The thread for the next request, its code loaded (started if need be). */
  acquire(): Promise<Worker>;
  /** `worker` hung or took too much memory in a request: end it; the next `acquire` gives another. */
  discard(worker: Worker): void;
  /** Nothing was asked for a while. */
  idle(): void;
  close(): Promise<void>;
}

const WORKER_ENTRY = fileURLToPath(new URL('./staging-worker.mjs', import.meta.url));
/** A worker unused this long is ended; the next version starts another (≈ 0.1–0.3 s). */
const IDLE_MS = 20_000;
/** Heap the worker needs for itself and the trial engine, on top of a version's own allowance. */
const WORKER_BASE_HEAP_MB = 128;

/** A staging worker of its own (kernel/plugins/staging-worker-main.ts), for an engine with no standby audio thread. */
export class StagingThread implements TrialThreads {
  private worker: Promise<Worker> | null = null;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly memoryMb: number) {}

  acquire(): Promise<Worker> {
    clearTimeout(this.idleTimer);
    return (this.worker ??= this.start());
  }

  discard(worker: Worker): void {
    void this.worker?.then((w) => {
      if (w === worker) this.worker = null;
    });
    void worker.terminate();
  }

  /** Ends the worker after IDLE_MS without a request: its heap (tens of MB) is not kept for edits that may never come. */
  idle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = null;
    await w?.then((worker) => worker.terminate(), () => undefined);
  }

  private start(): Promise<Worker> {
    const worker = new Worker(WORKER_ENTRY, {
      // A small young generation keeps the garbage of trials from piling up as resident memory.
      resourceLimits: { maxOldGenerationSizeMb: this.memoryMb + WORKER_BASE_HEAP_MB, maxYoungGenerationSizeMb: 8 },
    });
    // The staging worker must never keep the process alive on its own.
    worker.unref();
    worker.once('exit', () => {
      void this.worker?.then((w) => {
        if (w === worker) this.worker = null;
      });
    });
    // Loading this thread's code is not part of any version's time limit: it says when it is ready.
    return new Promise((resolve) => {
      const onLoaded = (m: { loaded?: boolean }) => {
        if (m.loaded !== true) return;
        worker.off('message', onLoaded);
        resolve(worker);
      };
      worker.on('message', onLoaded);
      // One that ends while loading fails its first request ('exit' below).
      worker.once('exit', () => resolve(worker));
    });
  }
}

type Request = StagingRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class PluginStager {
  private readonly pending = new Map<number, { worker: Worker; resolve: (a: StagingAnswer) => void; reject: (e: Error) => void }>();
  /**
   * The audio half whose evaluation was the last request sent to each thread: a trial of that code,
   * which comes next, goes by reference (the thread keeps the code of the evaluation just before).
   */
  private readonly evaluatedLast = new WeakMap<Worker, string>();
  /** Threads this stager listens to (each once). */
  private readonly heard = new WeakSet<Worker>();
  private nextId = 1;

  constructor(
    readonly options: StagerOptions,
    private readonly threads: TrialThreads = new StagingThread(options.memoryMb),
  ) {}

  /** Evaluate a bundle's top level (a loop or a throw there is refused without touching this thread). */
  async evaluate(code: string, filename: string, half: 'audio' | 'control' = 'audio'): Promise<void> {
    // The filename only names the module in stack traces; the same code passes wherever it lies.
    const key = { half, code: codeHash(code) };
    if (passedBefore('evaluate', key) !== undefined) return;
    await this.ask({ kind: 'evaluate', code, filename, half }, 'evaluating the module');
    recordPass('evaluate', key, true);
  }

  /**
   * Construct and play the version privately (kernel/plugins/plugin-trial.ts); refused with a
   * StagingError. A fresh load that passed before as it is takes that pass (kernel/plugins/trial-cache.ts).
   */
  async trial(request: Omit<TrialRequest, 'memoryMb'>): Promise<StagingReport> {
    const full = { ...request, memoryMb: this.options.memoryMb };
    const { slotId: _slotId, filename: _filename, code, ...spec } = request.spec;
    const key = request.state === undefined && request.spec.shared === undefined ? { ...full, spec: { ...spec, code: codeHash(code) } } : null;
    const before = key && passedBefore<StagingReport>('trial', key);
    if (before) return before;
    const answer = await this.ask({ kind: 'trial', ...full }, `its ${request.seconds} s trial`);
    const report = (answer as { report: StagingReport }).report;
    if (key) recordPass('trial', key, report);
    return report;
  }

  close(): Promise<void> {
    return this.threads.close();
  }

  private listen(worker: Worker): void {
    if (this.heard.has(worker)) return;
    this.heard.add(worker);
    worker.on('message', (m: { staged?: StagingAnswer }) => {
      if (m.staged === undefined) return;
      const p = this.pending.get(m.staged.id);
      this.pending.delete(m.staged.id);
      p?.resolve(m.staged);
    });
    const failAll = (reason: string) => {
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        p.reject(new StagingError(reason));
      }
    };
    worker.on('error', (e: Error & { code?: string }) =>
      failAll(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `ran out of memory in its trial (over about ${this.options.memoryMb} MB: engine.pluginMemoryMb)` : `its trial ended the thread it ran in: ${e.message}`),
    );
    worker.on('exit', () => failAll('its trial ended the thread it ran in'));
  }

  private async ask(request: Request, what: string): Promise<StagingAnswer> {
    try {
      // A thread that has stopped taking requests (a standby made the audio thread) sends it on to the next.
      let byReference = true;
      for (let tries = 0; ; tries++) {
        const answer = await this.askOnce(request, what, byReference);
        if (answer.ok) return answer;
        if (answer.codeNeeded === true && byReference) byReference = false;
        else if (answer.elsewhere !== true || tries >= 2) throw new StagingError(answer.message);
      }
    } finally {
      if (this.pending.size === 0) this.threads.idle();
    }
  }

  private async askOnce(request: Request, what: string, byReference: boolean): Promise<StagingAnswer> {
    const worker = await this.threads.acquire();
    this.listen(worker);
    const id = this.nextId++;
    const sent = byReference && request.kind === 'trial' && this.evaluatedLast.get(worker) === request.spec.code ? { ...request, spec: byReferenceSpec(request.spec) } : request;
    if (request.kind === 'evaluate' && request.half !== 'control') this.evaluatedLast.set(worker, request.code);
    else this.evaluatedLast.delete(worker);
    return new Promise<StagingAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        // Whatever it is doing, it is doing it forever: another thread serves the next version.
        this.threads.discard(worker);
        reject(new StagingError(`did not finish ${what} within ${this.options.timeoutMs} ms (an endless loop?); engine.trialTimeoutMs sets the limit`));
      }, this.options.timeoutMs);
      this.pending.set(id, {
        worker,
        resolve: (a) => {
          clearTimeout(timer);
          if (!a.ok && a.spent === true) this.threads.discard(worker);
          resolve(a);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      worker.postMessage({ staging: { id, ...sent } as StagingRequest });
    });
  }
}

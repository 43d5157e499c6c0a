/**
 * Trying a plugin version before it goes live (control thread side). The work runs in the staging
 * worker (kernel/plugins/staging-worker-main.ts), a thread of its own with a time limit and a heap limit, so
 * a version that loops forever, calls what it must not or allocates gigabytes is refused there and
 * never reaches the audio thread — and never stalls this thread either.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { StagingAnswer, StagingRequest } from './staging-worker-main.ts';
import type { StagingReport, TrialRequest } from './plugin-trial.ts';
import { codeHash, passedBefore, recordPass } from './trial-cache.ts';

export type { StagingReport } from './plugin-trial.ts';

export class StagingError extends Error {}

export interface StagerOptions {
  /** How long one evaluation or trial may take before the version is refused as hung. */
  timeoutMs: number;
  /** Memory one version may take (heap and array buffers). */
  memoryMb: number;
}

const WORKER_ENTRY = fileURLToPath(new URL('./staging-worker.mjs', import.meta.url));
/** A worker unused this long is ended; the next version starts another (≈ 0.1–0.3 s). */
const IDLE_MS = 20_000;
/** Heap the worker needs for itself and the trial engine, on top of a version's own allowance. */
const WORKER_BASE_HEAP_MB = 128;

type Request = StagingRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class PluginStager {
  private worker: Worker | null = null;
  /** Resolves once the current worker has loaded its code (time limits start after that). */
  private loaded: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, { worker: Worker; resolve: (a: StagingAnswer) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor(readonly options: StagerOptions) {}

  /** Ends the worker after IDLE_MS without a request: its heap (tens of MB) is not kept for edits that may never come. */
  private idleTimer: NodeJS.Timeout | undefined;

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

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_ENTRY, {
      // A small young generation keeps the garbage of trials from piling up as resident memory.
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb + WORKER_BASE_HEAP_MB, maxYoungGenerationSizeMb: 8 },
    });
    // The staging worker must never keep the process alive on its own.
    worker.unref();
    this.loaded = new Promise((resolve) => {
      const onLoaded = (m: { loaded?: boolean }) => {
        if (m.loaded !== true) return;
        worker.off('message', onLoaded);
        resolve();
      };
      worker.on('message', onLoaded);
      worker.once('exit', () => resolve());
    });
    worker.on('message', (a: StagingAnswer) => {
      if (a.id === undefined) return;
      const p = this.pending.get(a.id);
      this.pending.delete(a.id);
      p?.resolve(a);
    });
    const failAll = (reason: string) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        p.reject(new StagingError(reason));
      }
    };
    worker.on('error', (e: Error & { code?: string }) =>
      failAll(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `ran out of memory in its trial (over about ${this.options.memoryMb} MB: engine.pluginMemoryMb)` : `its trial ended the staging worker: ${e.message}`),
    );
    worker.on('exit', () => failAll('its trial ended the staging worker'));
    return worker;
  }

  private idleLater(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0) void this.close();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  private async ask(request: Request, what: string): Promise<StagingAnswer> {
    return this.askWorker(request, what).finally(() => this.idleLater());
  }

  private async askWorker(request: Request, what: string): Promise<StagingAnswer> {
    const worker = (this.worker ??= this.start());
    await this.loaded;
    const id = this.nextId++;
    return new Promise<StagingAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        // Whatever it is doing, it is doing it forever: a fresh worker serves the next version.
        if (this.worker === worker) this.worker = null;
        void worker.terminate();
        reject(new StagingError(`did not finish ${what} within ${this.options.timeoutMs} ms (an endless loop?); engine.trialTimeoutMs sets the limit`));
      }, this.options.timeoutMs);
      this.pending.set(id, {
        worker,
        resolve: (a) => {
          clearTimeout(timer);
          if (a.ok) resolve(a);
          else reject(new StagingError(a.message));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      worker.postMessage({ id, ...request } as StagingRequest);
    });
  }
}

/**
 * The control thread's handle on the audio side: the rings and shared figures, and calls that run
 * on the audio thread between blocks. Two implementations share the same AudioEngine code:
 * `InProcessHost` (offline renders and tests: the engine lives in this thread) and `WorkerHost`
 * (real time: the engine lives in a worker paced by the null or device backend).
 */
import { AudioEngine, type LoadResult } from '../audio/audio-engine.ts';
import { TapRing } from '../audio/tap-ring.ts';
import { ControlRing } from '../audio/control-ring.ts';
import { SharedState } from '../audio/shared-state.ts';
import type { StatePurpose } from '../../plugin-sdk/types.ts';
import type { PrepareSpec, SlotSpec } from '../audio/slot-spec.ts';
import type { AudioOptions } from '../audio/worker-data.ts';
import type { AudioSnapshot } from '../audio/audio-snapshot.ts';

export interface AudioCalls {
  load(spec: SlotSpec): LoadResult;
  unload(pluginId: string): void;
  command(pluginId: string, name: string, args: unknown): unknown;
  share(pluginId: string, name: string, value: unknown): void;
  getState(pluginId: string, purpose?: StatePurpose): unknown;
  setState(pluginId: string, state: unknown): void;
  resetPlugin(pluginId: string): boolean;
  plugins(): ReturnType<AudioEngine['plugins']>;
  broadcast(name: string): void;
  retiredError(slotId: number): string;
  snapshot(): AudioSnapshot | null;
  takeLog(): ReturnType<AudioEngine['takeLog']>;
}

export type AudioCall = keyof AudioCalls;

/**
 * Told of every call the audio thread answered: the frame is the audio thread's own count when the
 * call ran (it ran between blocks, before the block starting at that frame); `failed` when it threw;
 * `result` what it returned (in the order the calls ran, so a snapshot sits between the calls before and after it).
 */
export type CallObserver = (method: AudioCall, args: readonly unknown[], frame: number, failed: boolean, result?: unknown) => void;

export interface AudioHost {
  readonly ring: ControlRing;
  readonly reports: ControlRing;
  /** Every control-ring record the audio thread took, as it took it (kernel/audio/event-kinds.ts, JournalKind). */
  readonly journal: ControlRing;
  /** Sees every call with the frame it ran before (a session journal); null: nobody. */
  onCall: CallObserver | null;
  readonly shared: SharedState;
  /** The output as heard, for meters and the spectrum (the reader may fall behind: it only wants recent audio). */
  readonly outputTap: TapRing;
  readonly sampleRate: number;
  readonly blockSize: number;
  readonly backend: 'null' | 'device' | 'offline';
  call<K extends AudioCall>(method: K, ...args: Parameters<AudioCalls[K]>): Promise<ReturnType<AudioCalls[K]>>;
  /** The plugin versions live now, for a host that keeps a standby audio thread primed. */
  prime?(specs: SlotSpec[]): void;
  /**
   * Real-time hosts: evaluate a version on the audio thread ahead of its `load`, without waiting
   * (kernel/audio/prepared-loads.ts); its `load` then goes without the code.
   */
  prepare?(spec: PrepareSpec): void;
  /** Real-time hosts: warm the loaded plugins up on the audio thread before the clock starts, without waiting. */
  warmUp?(): void;
  close(): Promise<void>;
}


/** A call to an audio thread that has stopped, or was ended while the call was in flight. */
export class AudioStoppedError extends Error {
  constructor() {
    super('the audio thread has stopped');
  }
}

export const RING_CAPACITY = 16384;
/** Room for two full control rings of records (each block's run has one more, its Taken record). */
export const JOURNAL_CAPACITY = 2 * RING_CAPACITY;
export const OUTPUT_TAP_FRAMES = 8192;

/** The engine in this thread, rendered on demand (offline). */
export class InProcessHost implements AudioHost {
  readonly ring = new ControlRing(RING_CAPACITY);
  readonly reports = new ControlRing(1024);
  readonly journal = new ControlRing(JOURNAL_CAPACITY);
  onCall: CallObserver | null = null;
  readonly shared = new SharedState();
  readonly outputTap = new TapRing(2, OUTPUT_TAP_FRAMES);
  readonly engine: AudioEngine;
  readonly backend = 'offline' as const;
  readonly sampleRate: number;
  readonly blockSize: number;
  private readonly outL: Float32Array;
  private readonly outR: Float32Array;
  /** What `render` returns, the same object every time (no allocation per block). */
  private readonly out: { readonly l: Float32Array; readonly r: Float32Array };

  constructor(options: AudioOptions) {
    this.sampleRate = options.sampleRate;
    this.blockSize = options.blockSize;
    this.engine = new AudioEngine(options.sampleRate, options.blockSize, options.smoothingMs, this.ring, this.reports, this.shared);
    this.engine.equalPowerFades = options.equalPowerFades ?? false;
    this.engine.outputTap = this.outputTap;
    this.engine.journal = this.journal;
    this.outL = new Float32Array(options.blockSize);
    this.outR = new Float32Array(options.blockSize);
    this.out = { l: this.outL, r: this.outR };
  }

  /**
   * Arguments and results are copied as they are between threads (structured clone), so this host
   * behaves as the worker does: plugin objects, made in the plugins' own realms, never leak out.
   */
  async call<K extends AudioCall>(method: K, ...args: Parameters<AudioCalls[K]>): Promise<ReturnType<AudioCalls[K]>> {
    const fn = this.engine[method] as (...a: unknown[]) => ReturnType<AudioCalls[K]>;
    const frame = this.engine.frame;
    try {
      const result = structuredClone(fn.apply(this.engine, structuredClone(args)));
      this.onCall?.(method, args, frame, false, result);
      return result;
    } catch (e) {
      this.onCall?.(method, args, frame, true);
      throw e;
    }
  }

  /** Render the next block; the returned object and arrays are reused by the next call. */
  render(frames = this.blockSize): { readonly l: Float32Array; readonly r: Float32Array } {
    this.engine.renderBlock(this.outL, this.outR, frames);
    this.engine.housekeeping();
    return this.out;
  }

  async close(): Promise<void> {}
}

/**
 * Figures the audio thread publishes for the control thread: plain float64 slots on a
 * SharedArrayBuffer, written by one thread and read by the other (single values, so no locking),
 * plus a histogram of block render times.
 */

export const Slot = {
  FramesRendered: 0,
  BlocksRendered: 1,
  /** Blocks that were not ready by their deadline (null backend) plus device underflows. */
  Xruns: 2,
  PeakL: 3,
  PeakR: 4,
  /** Peak of each of the last block's master channels, decayed by the control thread's reader. */
  Rms: 5,
  /** Wall-clock time (ms since the Unix epoch) at which frame `AnchorFrame` is heard. */
  AnchorWallMs: 6,
  AnchorFrame: 7,
  ActiveGates: 8,
  EventsDropped: 9,
  PluginFaults: 10,
  LastBlockMs: 11,
  Running: 12,
  SampleRate: 13,
  BlockSize: 14,
  MaxBlockMs: 15,
  /** The last xrun: how late its block was (ms past its deadline) and how long it took to render. */
  LastXrunLateMs: 16,
  LastXrunRenderMs: 17,
  /**
   * Null backend: the worst delay of the audio loop's wake-up past the time it asked for (sleep
   * overrun, the worker's event loop busy, GC or the thread not scheduled) — stalls outside renders.
   */
  MaxWakeDelayMs: 18,
  /** The longest call from the control thread (load, unload, state …) the audio thread ran between blocks. */
  MaxCallMs: 19,
  /** Null backend: the worst time `Atomics.wait` returned past its timeout (the OS or VM not running the thread). */
  MaxSleepOverrunMs: 20,
  /**
   * Events in the audio thread's queue (between blocks: all timed after the last block). While it
   * takes records from the control ring it holds one more, written before each record is taken, so
   * a reader that reads the ring's size first and then this never misses a record in flight.
   */
  QueueLength: 21,
  /** How many events may be scheduled ahead (the queue's capacity less the room kept for events due now). */
  QueueLimit: 22,
  /** `ctx.log` lines waiting for the control thread (it collects them only when there are some). */
  PluginLogPending: 23,
  // The watchdog's words (kernel/host/audio-watchdog.ts), at the end of the table.
  /** The slot id of the plugin whose code runs on the audio thread now (0: none). */
  RunningSlot: 28,
  /** Counts plugin calls: unchanged while RunningSlot is set means one call is still running. */
  CallSeq: 29,
  /** The audio thread's Linux task id (its CPU time is in /proc/self/task/<tid>/schedstat), 0 unknown. */
  AudioTid: 30,
  /** 1 while RunningSlot is a call between blocks (create, state, command), 0 inside a block. */
  RunningBetweenBlocks: 31,
} as const;

const SLOTS = 32;
/** Block times are binned in 10 µs steps up to 40 ms. */
export const HISTOGRAM_BIN_MS = 0.01;
const HISTOGRAM_BINS = 4000;

export class SharedState {
  readonly buffer: SharedArrayBuffer;
  readonly values: Float64Array;
  readonly histogram: Uint32Array;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(SLOTS * 8 + HISTOGRAM_BINS * 4);
    this.values = new Float64Array(this.buffer, 0, SLOTS);
    this.histogram = new Uint32Array(this.buffer, SLOTS * 8, HISTOGRAM_BINS);
  }

  recordBlockTime(ms: number): void {
    let bin = Math.floor(ms / HISTOGRAM_BIN_MS);
    if (bin >= HISTOGRAM_BINS) bin = HISTOGRAM_BINS - 1;
    else if (bin < 0) bin = 0;
    this.histogram[bin]++;
    this.values[Slot.LastBlockMs] = ms;
    if (ms > this.values[Slot.MaxBlockMs]) this.values[Slot.MaxBlockMs] = ms;
  }

  /** Block render time (ms) at quantile q (0..1) over every block so far. */
  blockTimeQuantile(q: number): number {
    let total = 0;
    for (const n of this.histogram) total += n;
    if (total === 0) return 0;
    const want = q * total;
    let seen = 0;
    for (let i = 0; i < this.histogram.length; i++) {
      seen += this.histogram[i];
      if (seen >= want) return (i + 1) * HISTOGRAM_BIN_MS;
    }
    return HISTOGRAM_BINS * HISTOGRAM_BIN_MS;
  }

  resetHistogram(): void {
    this.histogram.fill(0);
    this.values[Slot.MaxBlockMs] = 0;
  }
}

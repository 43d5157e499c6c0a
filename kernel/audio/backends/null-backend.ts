/**
 * The `null` backend (audio thread): renders blocks in real time with no sound card, paced by a
 * drift-corrected clock. Block k is due at t0 + k·blockMs; the loop keeps `leadBlocks` blocks
 * rendered ahead, sleeps with `Atomics.wait` (woken early by the control thread after each message)
 * and yields once per wake with `setImmediate` so messages get their turn. A block finished after its
 * deadline is an xrun; the clock then re-anchors so one stall counts once.
 */
import type { AudioEngine } from '../audio-engine.ts';
import { Slot } from '../shared-state.ts';
import type { WorkerData } from '../worker-data.ts';
import type { Backend } from './backend.ts';

export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Blocks rendered before the clock starts (see start). */
const WARM_BLOCKS = 2;

export function createNullBackend(engine: AudioEngine, data: WorkerData, wake: Int32Array): Backend {
  const n = data.blockSize;
  const blockMs = (n / data.sampleRate) * 1000;
  const lead = data.leadBlocks;
  const outL = new Float32Array(n);
  const outR = new Float32Array(n);
  const v = engine.shared.values;
  let running = false;
  let k = 0;
  let t0 = 0;
  /** When the loop asked to run again (wall ms). */
  let wakeAt = 0;

  /** Renders block k; a block finished after its deadline is an xrun. Returns the wall time after it. */
  const renderNext = (): number => {
    const began = performance.now();
    engine.renderBlock(outL, outR, n);
    const ended = performance.now();
    engine.shared.recordBlockTime(ended - began);
    const now = wallMs();
    if (now > t0 + k * blockMs) {
      // Late: the device would have run dry. Count it and move the clock so the next block is on time.
      v[Slot.Xruns]++;
      v[Slot.LastXrunLateMs] = now - (t0 + k * blockMs);
      v[Slot.LastXrunRenderMs] = ended - began;
      t0 = now - k * blockMs;
      v[Slot.AnchorWallMs] = t0;
    }
    k++;
    return now;
  };

  const tick = (): void => {
    if (!running) return;
    let now = wallMs();
    if (now - wakeAt > v[Slot.MaxWakeDelayMs]) v[Slot.MaxWakeDelayMs] = now - wakeAt;
    while (t0 + (k - lead) * blockMs <= now) now = renderNext();
    engine.housekeeping();
    const sleep = t0 + (k - lead) * blockMs - now;
    wakeAt = sleep > 0 ? now + sleep : now;
    if (sleep > 0 && Atomics.wait(wake, 0, 0, sleep) === 'timed-out') {
      const overrun = wallMs() - wakeAt;
      if (overrun > v[Slot.MaxSleepOverrunMs]) v[Slot.MaxSleepOverrunMs] = overrun;
    }
    setImmediate(tick);
  };
  return {
    start() {
      if (running) return;
      running = true;
      const firstFrame = engine.frame;
      // The first blocks run cold code (V8 has not optimised it yet: tens of ms at 64 voices). They
      // are rendered before the clock starts, so they count against no deadline.
      for (k = 0; k < WARM_BLOCKS; k++) engine.renderBlock(outL, outR, n);
      t0 = wallMs() + lead * blockMs;
      wakeAt = wallMs();
      v[Slot.AnchorWallMs] = t0;
      v[Slot.AnchorFrame] = firstFrame;
      v[Slot.Running] = 1;
      setImmediate(tick);
    },
    async stop() {
      running = false;
      v[Slot.Running] = 0;
    },
    renderAhead(blocks: number) {
      if (!running) return;
      // At most `blocks` beyond the usual lead: the loop then sleeps until it is back on schedule.
      while (k - lead < Math.floor((wallMs() - t0) / blockMs) + 1 + blocks) renderNext();
    },
  };
}

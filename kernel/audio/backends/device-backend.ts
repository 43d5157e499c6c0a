/**
 * The `device` backend on the audio thread: renders blocks into the output ring as fast as the device
 * thread (kernel/audio/backends/device-output-main.ts, which owns naudiodon) takes them out, keeping
 * `leadBlocks` blocks queued. It never touches the sound card itself, so this thread can be replaced
 * after a hang while the card plays on. It sleeps with `Atomics.wait` on the wake word (notified by the
 * device thread after each block it takes, and by the control thread after each message) and yields
 * once per wake with `setImmediate` so messages get their turn.
 */
import type { AudioEngine } from '../audio-engine.ts';
import { Slot } from '../shared-state.ts';
import type { WorkerData } from '../worker-data.ts';
import { wallMs } from './null-backend.ts';
import type { Backend } from './backend.ts';
import { OutputRing } from './output-ring.ts';

export function createDeviceBackend(engine: AudioEngine, data: WorkerData, wake: Int32Array): Backend {
  if (data.outputRing === null) throw new Error('the device backend needs the device thread (no output ring)');
  const n = data.blockSize;
  const blockMs = (n / data.sampleRate) * 1000;
  const lead = data.leadBlocks;
  const ring = new OutputRing(n, data.outputRingSlots, data.outputRing);
  const outL = new Float32Array(n);
  const outR = new Float32Array(n);
  const v = engine.shared.values;
  let running = false;

  /** Renders blocks until `target` are queued (or the ring is full). */
  const fill = (target: number): void => {
    while (ring.queued < target) {
      const began = performance.now();
      engine.renderBlock(outL, outR, n);
      engine.shared.recordBlockTime(performance.now() - began);
      if (!ring.write(outL, outR)) break;
    }
  };

  const tick = (): void => {
    if (!running) return;
    fill(lead);
    engine.housekeeping();
    Atomics.wait(wake, 0, 0, blockMs);
    setImmediate(tick);
  };

  return {
    start() {
      if (running) return;
      running = true;
      fill(lead);
      // The first block queued is heard once the device thread has started the stream (about the
      // stream's own buffer later).
      v[Slot.AnchorWallMs] = wallMs() + data.streamBlocks * blockMs;
      v[Slot.AnchorFrame] = engine.frame - ring.queued * n;
      v[Slot.Running] = 1;
      setImmediate(tick);
    },
    async stop() {
      running = false;
      v[Slot.Running] = 0;
    },
    renderAhead(blocks: number) {
      if (running) fill(Math.min(lead + blocks, ring.slots));
    },
  };
}

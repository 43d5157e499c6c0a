/**
 * The `device` backend (audio thread): naudiodon/PortAudio. naudiodon is loaded here and only here
 * (its segfault handler refuses a second load). Blocks are rendered as the stream accepts them:
 * the writable's high-water mark holds `leadBlocks` blocks, so the stream paces the renderer.
 * Underflows are printed by naudiodon's native code on stdout only; the supervising process counts
 * them (see kernel/device-supervisor.ts) and they are added to the xrun figure.
 */
import { createRequire } from 'node:module';
import type { AudioEngine } from '../audio-engine.ts';
import { Slot } from '../shared-state.ts';
import type { WorkerData } from '../worker-host.ts';
import { wallMs } from './null-backend.ts';
import type { Backend } from './backend.ts';

type Naudiodon = typeof import('naudiodon');

export function findDevice(portAudio: Naudiodon, wanted: string | null): number {
  if (wanted === null || wanted === '') return -1;
  const devices = portAudio.getDevices().filter((d) => d.maxOutputChannels >= 2);
  const byIndex = /^\d+$/.test(wanted) ? devices.find((d) => d.id === Number(wanted)) : undefined;
  const byName = devices.find((d) => d.name === wanted) ?? devices.find((d) => d.name.includes(wanted));
  const found = byIndex ?? byName;
  if (!found) throw new Error(`no output device '${wanted}'; devices: ${devices.map((d) => `${d.id} "${d.name}"`).join(', ') || 'none'}`);
  return found.id;
}

export async function openDeviceBackend(engine: AudioEngine, data: WorkerData): Promise<Backend> {
  const portAudio = createRequire(import.meta.url)('naudiodon') as Naudiodon;
  const n = data.blockSize;
  const blockBytes = n * 2 * 4;
  const stream = portAudio.AudioIO({
    outOptions: {
      channelCount: 2,
      sampleFormat: portAudio.SampleFormatFloat32,
      sampleRate: data.sampleRate,
      deviceId: findDevice(portAudio, data.device),
      closeOnError: false,
      framesPerBuffer: n,
      highwaterMark: blockBytes * data.leadBlocks,
    },
  });
  const outL = new Float32Array(n);
  const outR = new Float32Array(n);
  // The stream holds each chunk until the native side has taken it: cycle through enough buffers.
  const pool = Array.from({ length: data.leadBlocks + 16 }, () => Buffer.alloc(blockBytes));
  let next = 0;
  let running = false;
  const v = engine.shared.values;

  const pump = (): void => {
    while (running) {
      const began = performance.now();
      engine.renderBlock(outL, outR, n);
      engine.shared.recordBlockTime(performance.now() - began);
      const chunk = pool[next];
      next = (next + 1) % pool.length;
      const f = new Float32Array(chunk.buffer, chunk.byteOffset, n * 2);
      for (let i = 0; i < n; i++) {
        f[2 * i] = outL[i];
        f[2 * i + 1] = outR[i];
      }
      if (!stream.write(chunk)) {
        engine.housekeeping();
        stream.once('drain', pump);
        return;
      }
    }
  };
  return {
    start() {
      if (running) return;
      running = true;
      v[Slot.AnchorWallMs] = wallMs() + (data.leadBlocks * n * 1000) / data.sampleRate;
      v[Slot.AnchorFrame] = engine.frame;
      v[Slot.Running] = 1;
      // Queue the lead blocks before the device starts pulling, so its first callbacks find data.
      pump();
      stream.start();
    },
    async stop() {
      running = false;
      v[Slot.Running] = 0;
      // A device that has gone away (JACK stopped) may never confirm; do not hang the engine's exit on it.
      await Promise.race([new Promise<void>((resolve) => stream.abort(() => resolve())), new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    },
  };
}

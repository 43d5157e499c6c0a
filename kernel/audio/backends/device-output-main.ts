/**
 * The device thread: the only thread that loads naudiodon (its segfault handler refuses a second
 * load, and terminating a thread with a PortAudio stream open crashes the process). It runs no
 * plugin code: it moves rendered blocks from the output ring to the stream as the stream accepts
 * them, so the audio thread that renders them can be replaced after a hang while the device plays
 * on. Underflows are printed by naudiodon's native code on stdout; the supervising process counts
 * them (cli/supervisor.ts). A block the audio thread has not delivered within a block's time is
 * played as silence and counted as an xrun.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { raiseAudioThreadPriority } from '../../platform/thread-priority.ts';
import { SharedState, Slot } from '../shared-state.ts';
import { OutputRing } from './output-ring.ts';

type Naudiodon = typeof import('naudiodon');

export interface DeviceOutputData {
  sampleRate: number;
  blockSize: number;
  /** Blocks the stream's own buffer holds. */
  streamBlocks: number;
  device: string | null;
  ring: SharedArrayBuffer;
  ringSlots: number;
  shared: SharedArrayBuffer;
  /** Notified after every block taken, so the audio thread renders the next at once. */
  wake: SharedArrayBuffer;
}

function findDevice(portAudio: Naudiodon, wanted: string | null): number {
  if (wanted === null || wanted === '') return -1;
  const devices = portAudio.getDevices().filter((d) => d.maxOutputChannels >= 2);
  const byIndex = /^\d+$/.test(wanted) ? devices.find((d) => d.id === Number(wanted)) : undefined;
  const byName = devices.find((d) => d.name === wanted) ?? devices.find((d) => d.name.includes(wanted));
  const found = byIndex ?? byName;
  if (!found) throw new Error(`no output device '${wanted}'; devices: ${devices.map((d) => `${d.id} "${d.name}"`).join(', ') || 'none'}`);
  return found.id;
}

const port = parentPort!;
const data = workerData as DeviceOutputData;
const n = data.blockSize;
const blockBytes = n * 2 * 4;
const blockMs = (n / data.sampleRate) * 1000;
const ring = new OutputRing(n, data.ringSlots, data.ring);
const v = new SharedState(data.shared).values;
const wake = new Int32Array(data.wake);
// Real-time priority before the stream opens: the card's first callbacks must not wait behind the control side.
await raiseAudioThreadPriority();
let stream: ReturnType<Naudiodon['AudioIO']>;
try {
  const portAudio = createRequire(import.meta.url)('naudiodon') as Naudiodon;
  stream = portAudio.AudioIO({
    outOptions: {
      channelCount: 2,
      sampleFormat: portAudio.SampleFormatFloat32,
      sampleRate: data.sampleRate,
      deviceId: findDevice(portAudio, data.device),
      closeOnError: false,
      framesPerBuffer: n,
      highwaterMark: blockBytes * data.streamBlocks,
    },
  });
} catch (e) {
  port.postMessage({ ready: false, error: (e as Error)?.message ?? String(e) });
  process.exit(0);
}
// The stream holds each chunk until the native side has taken it: cycle through enough buffers.
const pool = Array.from({ length: data.streamBlocks + data.ringSlots + 16 }, () => Buffer.alloc(blockBytes));
const views = pool.map((chunk) => new Float32Array(chunk.buffer, chunk.byteOffset, n * 2));
let next = 0;
let running = false;

const pump = (): void => {
  while (running) {
    const chunk = pool[next];
    const f = views[next];
    next = (next + 1) % pool.length;
    if (!ring.readInto(f)) {
      // Give the audio thread up to a block's time; after that the card gets silence, not a gap.
      Atomics.wait(ring.counters, 0, ring.written, blockMs);
      if (!ring.readInto(f)) {
        f.fill(0);
        v[Slot.Xruns]++;
      }
    }
    Atomics.notify(wake, 0);
    if (!stream.write(chunk)) {
      stream.once('drain', pump);
      return;
    }
  }
};

/** Resolves once the stream has no write queued or in flight, or after `maxMs`. */
function writesSettled(maxMs: number): Promise<void> {
  const until = performance.now() + maxMs;
  return new Promise((resolve) => {
    const check = (): void => {
      if (stream.writableLength === 0 || performance.now() > until) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

port.on('message', (m: { method: 'start' | 'stop' }) => {
  if (m.method === 'start') {
    if (running) return;
    running = true;
    pump();
    stream.start();
    port.postMessage({ started: true });
  } else {
    running = false;
    // A device that has gone away (JACK stopped) may never confirm; do not hang the engine's exit on it.
    // `quit`, not `abort`: naudiodon 2.3's abort passes its native quit two arguments, which throws.
    // `quit` lets the few blocks the stream holds play out (Pa_StopStream) and closes it.
    const quit = stream.quit().catch(() => undefined);
    void Promise.race([quit, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())])
      // Each write in flight holds a native promise: the thread must not end before they settle (naudiodon
      // prints "Unexpected N-API status not OK" for one resolved while its thread is torn down).
      .then(() => writesSettled(500))
      .then(() => port.postMessage({ stopped: true }));
  }
});
port.postMessage({ ready: true });

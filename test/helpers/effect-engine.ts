/**
 * Offline engines for effect tests: the project's plugins plus the test fixtures (the `probe`
 * source), and a renderer that also captures a bus before the kernel's final clip.
 */
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from './offline-engine.ts';

export const PLUGINS_DIR = path.join(PROJECT_ROOT, 'plugins');

/** An offline engine at 48 kHz with only the named plugin folders (from plugins/ and the fixtures). */
export function startWith(only: string[]): Promise<OfflineEngine> {
  return OfflineEngine.start({
    pluginsFrom: [PLUGINS_DIR, FIXTURE_PLUGINS],
    only,
    configure: (c) => {
      c.audio.sampleRate = 48000;
    },
  });
}

export interface Capture {
  /** The engine output (clipped at ±1 by the kernel). */
  l: Float32Array;
  r: Float32Array;
  /** The chosen bus as it was after the last plugin of the block ran (not clipped). */
  busL: Float32Array;
  busR: Float32Array;
  /** The absolute frame of sample 0. */
  frame0: number;
}

/** Renders `frames` frames block by block, capturing `bus` ('master' or 'main') besides the output. */
export function renderCapture(e: OfflineEngine, frames: number, bus: 'master' | 'main' = 'master'): Capture {
  const out: Capture = {
    l: new Float32Array(frames),
    r: new Float32Array(frames),
    busL: new Float32Array(frames),
    busR: new Float32Array(frames),
    frame0: e.frame,
  };
  const b = e.host.engine.bus(bus);
  let done = 0;
  while (done < frames) {
    const n = Math.min(e.host.blockSize, frames - done);
    const o = e.host.render(n);
    out.l.set(o.l.subarray(0, n), done);
    out.r.set(o.r.subarray(0, n), done);
    out.busL.set(b.l.subarray(0, n), done);
    out.busR.set(b.r.subarray(0, n), done);
    done += n;
  }
  return out;
}

/** Sends each `[address, value]` to the engine (at the next block). */
export async function sendAll(e: OfflineEngine, messages: readonly (readonly [string, number])[]): Promise<void> {
  for (const [address, value] of messages) await e.send(address, [value]);
}

/** The `/error` replies received so far, each as one line of text (assert it is empty). */
export function errors(e: OfflineEngine): string[] {
  return e.replies.filter((r) => r.address === '/error').map((r) => r.args.map(String).join(' '));
}

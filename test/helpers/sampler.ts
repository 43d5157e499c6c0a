/**
 * The sampler plugin with samples chosen by a test: a temp copy of plugins/sampler whose samples/
 * holds only the files given, in an offline engine (with other project plugins if asked).
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import wavefilePkg from 'wavefile';
import type { Config } from '../../kernel/base/config.ts';
import { OfflineEngine, PROJECT_ROOT } from './offline-engine.ts';

/** WAV bytes of `channels` (one array per channel) at `rate` Hz in `depth` (wavefile's codes: '16', '24', '32f'…). */
export function wavBytes(channels: ArrayLike<number>[], rate = 48000, depth = '32f'): Uint8Array {
  const wav = new wavefilePkg.WaveFile();
  const scale = depth === '32f' || depth === '64' ? 1 : 2 ** (Number(depth) - 1) - 1;
  const data = channels.map((c) => Array.from(c, (x) => (scale === 1 ? x : Math.round(x * scale))));
  wav.fromScratch(channels.length, rate, depth, channels.length === 1 ? data[0] : data);
  return wav.toBuffer();
}

export interface SamplerEngine {
  e: OfflineEngine;
  /** The engine's copy of the sampler folder (edit samples/ here). */
  folder: string;
  close(): Promise<void>;
}

/** An offline engine with the sampler (samples/ holding `samples`: name → bytes) and `also` other plugin folders. */
export async function samplerEngine(
  samples: Readonly<Record<string, Uint8Array>>,
  options: { also?: string[]; watch?: boolean; configure?: (c: Config) => void } = {},
): Promise<SamplerEngine> {
  const src = await mkdtemp(path.join(os.tmpdir(), 'chronus-sampler-'));
  try {
    const shipped = path.join(PROJECT_ROOT, 'plugins/sampler/samples');
    await cp(path.join(PROJECT_ROOT, 'plugins/sampler'), path.join(src, 'sampler'), { recursive: true, filter: (from) => from !== shipped && !from.startsWith(shipped + path.sep) });
    await mkdir(path.join(src, 'sampler/samples'));
    for (const [name, bytes] of Object.entries(samples)) await writeFile(path.join(src, 'sampler/samples', name), bytes);
    for (const other of options.also ?? []) await cp(path.join(PROJECT_ROOT, 'plugins', other), path.join(src, other), { recursive: true });
    const e = await OfflineEngine.start({ pluginsFrom: src, watch: options.watch, configure: options.configure });
    return {
      e,
      folder: path.join(e.root, 'plugins', 'sampler'),
      close: async () => {
        await e.close();
        await rm(src, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(src, { recursive: true, force: true });
    throw error;
  }
}

/** Index of the first sample that is not 0, or -1. */
export function firstSound(x: Float32Array): number {
  return x.findIndex((v) => v !== 0);
}

/**
 * WAV files for plugins and the kernel: a streaming writer that keeps its header valid while it
 * writes (RIFF that turns into RF64 past 4 GiB). The writer is given a file target, never a path:
 * a control half opens files only in its own folder (`ctx.files`).
 *
 *   const w = await openWavWriter(wavTarget(ctx.files, 'take.wav'), { sampleRate, channels: 2, format: 'int24' });
 */
import type { PluginFiles } from '../control.ts';
import type { WavTarget } from './writer.ts';

export { DEFAULT_CHUNK_BYTES, DEFAULT_RF64_THRESHOLD_BYTES, openWavWriter, WavWriter, WavWriterError } from './writer.ts';
export type { WavSyncInfo, WavTarget, WavWriterErrorCode, WavWriterOptions } from './writer.ts';
export { isWavSampleFormat, type WavSampleFormat } from './header.ts';

/** The file `name` (relative to the plugin's folder) as a writer's target; messages name its full path. */
export function wavTarget(files: PluginFiles, name: string): WavTarget {
  const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '.';
  return {
    path: files.path(name),
    open: (flags) => files.open(name, flags),
    syncDir: () => files.syncDir(dir),
  };
}

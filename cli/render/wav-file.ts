/**
 * The SDK's streaming WAV writer (plugin-sdk/wav) on a plain path, for the kernel's own files: offline
 * renders (`chronus render`) and golden references. Kernel side on purpose: plugins reach the writer
 * only through their confined folder (`ctx.files`), never through a path.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { openWavWriter, type WavWriter, type WavWriterOptions } from '../../plugin-sdk/wav/index.ts';
import { fsyncDir } from '../../kernel/base/atomic-file.ts';

/** Create a streaming WAV file at `file` (fails if it exists unless `options.overwrite`). */
export function openWavFile(file: string, options: WavWriterOptions): Promise<WavWriter> {
  return openWavWriter({ path: file, open: (flags) => open(file, flags, 0o644), syncDir: () => fsyncDir(path.dirname(file)) }, options);
}

/**
 * The SDK's streaming WAV writer (plugin-sdk/wav) on a plain path, for the kernel's own files: offline
 * renders (`chronus render`) and golden references. Kernel side on purpose: plugins reach the writer
 * only through their confined folder (`ctx.files`), never through a path.
 */
import { rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { openWavWriter, type WavWriter, type WavWriterOptions } from '../../plugin-sdk/wav/index.ts';
import { fsyncDir } from '../../kernel/base/atomic-file.ts';

/** Create a streaming WAV file at `file` (fails if it exists unless `options.overwrite`). */
export function openWavFile(file: string, options: WavWriterOptions): Promise<WavWriter> {
  return openWavWriter({ path: file, open: (flags) => open(file, flags, 0o644), syncDir: () => fsyncDir(path.dirname(file)) }, options);
}

/** An offline render's WAV file: `writer`, then `finish()` puts it in place, or `discard()` drops it. */
export interface RenderOutput {
  readonly writer: WavWriter;
  /** Closes the file and renames it onto the output path; resolves with its frames. */
  finish(): Promise<number>;
  /** Closes and removes the unfinished file; what was at the output path stays. */
  discard(): Promise<void>;
}

/**
 * The output of a render: written under a temporary name beside `file` and renamed onto it once
 * complete, so that a render that fails or is interrupted (Ctrl-C) leaves what was there before,
 * never a torn file. Nothing is fsynced: a render can be made again, and each fdatasync of a long
 * render waits for the disk (76 ms of a 60 s render here); `sox` does not sync either.
 * Messages name `file`, not the temporary name.
 */
export async function openRenderOutput(file: string, options: Omit<WavWriterOptions, 'overwrite' | 'durable'>): Promise<RenderOutput> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  // SIGINT and SIGTERM would end the process without 'exit' handlers: end it through process.exit instead.
  const onSignal = (signal: NodeJS.Signals) => {
    rmSync(tmp, { force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const forget = () => process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  let writer: WavWriter;
  try {
    writer = await openWavWriter({ path: file, open: (flags) => open(tmp, flags, 0o644) }, { ...options, overwrite: true, durable: false });
  } catch (e) {
    forget();
    await rm(tmp, { force: true });
    throw e;
  }
  return {
    writer,
    async finish() {
      try {
        const frames = await writer.close();
        await rename(tmp, file);
        return frames;
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      } finally {
        forget();
      }
    },
    async discard() {
      forget();
      await writer.close().catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

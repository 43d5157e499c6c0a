/** `chronus render --session <id> -o out.wav [--from T] [--to T] [--format …]`: a journaled session rendered again offline (the format was checked by render.ts). */
import { renderProgress } from './progress.ts';
import type { Config } from '../kernel/base/config.ts';
import type { WavSampleFormat } from '../plugin-sdk/wav/index.ts';
import { readJournal } from './session/read.ts';
import { replaySession } from './session/replay.ts';
import { sessionDir } from './session/store.ts';
import { frameOf } from './session/times.ts';

export async function renderSession(config: Config, values: { out?: string; format?: string; session?: string; from?: string; to?: string; seconds?: string }): Promise<number> {
  if (!values.out) throw new Error('render --session needs an output file: chronus render --session <id> -o out.wav');
  if (values.seconds !== undefined) throw new Error('--seconds is for scores; a session renders --from/--to (default: all of it)');
  const journal = readJournal(sessionDir(config.paths.sessions, values.session as string));
  const sr = journal.head.sampleRate;
  const from = values.from === undefined ? undefined : frameOf(values.from, '--from', sr, journal.marks);
  const to = values.to === undefined ? undefined : frameOf(values.to, '--to', sr, journal.marks);
  if (!journal.ended) process.stderr.write(`chronus: session ${journal.head.id} did not close cleanly: rendering up to its last flush (${(journal.endFrame / sr).toFixed(3)} s)\n`);
  if (to !== undefined && to > journal.endFrame) process.stderr.write(`chronus: --to is past the session's end (${(journal.endFrame / sr).toFixed(3)} s): rendering to its end\n`);
  const progress = renderProgress('replaying', sr);
  const result = await replaySession(journal, {
    out: values.out,
    format: values.format as WavSampleFormat | undefined,
    from,
    to,
    onProgress: progress.onProgress,
  });
  progress.stop();
  for (const e of result.callErrors) process.stderr.write(`chronus: replay: ${e}\n`);
  const start = result.startFrame > 0 ? `from the snapshot at frame ${result.startFrame}` : `from the session's start`;
  process.stdout.write(`chronus: wrote ${values.out} (session ${journal.head.id}, frames ${result.from}–${result.to}, ${(result.frames / sr).toFixed(3)} s; rendered ${start})\n`);
  return result.callErrors.length > 0 ? 1 : 0;
}

/**
 * The files of a recording session, in the plugin's folder (control half): one WAV file, or for
 * stems a folder `sessions/<name>/` with `master.wav` and `voice1.wav` … — each under a name that
 * does not exist yet (never overwriting), each with a streaming writer whose header is valid from
 * the start. A start that fails half way leaves nothing behind.
 */
import { CodedError, openWavWriter, wavTarget, type PluginFiles, type WavSampleFormat, type WavWriter, type WavWriterOptions } from 'plugin-sdk';
import { errorMessage, RecordError } from './errors.ts';
import { candidateNames, sanitizeName } from './names.ts';

/** What `openSession` made: the file(s), by full path and by name in the folder, and their writers. */
export interface SessionFiles {
  /** The file replies name: the recording, or the master file of stems. */
  path: string;
  files: string[];
  names: string[];
  writers: WavWriter[];
  /** The stems session folder, or null. */
  dir: string | null;
}

export interface SessionOptions {
  readonly sampleRate: number;
  readonly format: WavSampleFormat;
  /** Stereo files to open: 1, or 1 + the voice count for stems (`stems` true). */
  readonly stereoFiles: number;
  readonly stems: boolean;
  readonly rf64ThresholdBytes?: number;
}

/** Create the folder's sessions/ and temp/ (idempotent). */
export async function ensureFolders(files: PluginFiles): Promise<void> {
  await files.mkdir('sessions');
  await files.mkdir('temp');
}

/** Open the file (or the stems folder and its files) for the client's `name` under a name that does not exist yet. Throws a CodedError. */
export async function openSession(files: PluginFiles, name: unknown, o: SessionOptions): Promise<SessionFiles> {
  const now = new Date();
  const safe = sanitizeName(name, now);
  try {
    await ensureFolders(files);
  } catch (e) {
    throw new CodedError(RecordError.OPEN_FAILED, `cannot create the recordings folder ${files.root}: ${errorMessage(e)}; fix paths.recordings or its permissions`);
  }
  const options: WavWriterOptions = {
    sampleRate: o.sampleRate,
    channels: 2,
    format: o.format,
    ...(o.rf64ThresholdBytes === undefined ? {} : { rf64ThresholdBytes: o.rf64ThresholdBytes }),
  };
  if (!o.stems) {
    for (const candidate of candidateNames(safe, '.wav', now)) {
      try {
        const w = await openWavWriter(wavTarget(files, candidate), options);
        return { path: w.path, files: [w.path], names: [candidate], writers: [w], dir: null };
      } catch (e) {
        if (isExists(e)) continue;
        throw await removeUnstarted(files, candidate, e);
      }
    }
  } else {
    for (const candidate of candidateNames(safe, '', now)) {
      const dir = `sessions/${candidate}`;
      try {
        if ((await files.stat(dir)) !== null) continue;
        await files.mkdir(dir);
      } catch (e) {
        throw failed(e);
      }
      const names = ['master.wav'];
      for (let v = 1; v < o.stereoFiles; v++) names.push(`voice${v}.wav`);
      const opened: SessionFiles = { path: '', files: [], names: names.map((n) => `${dir}/${n}`), writers: [], dir };
      try {
        for (const n of opened.names) {
          const w = await openWavWriter(wavTarget(files, n), options);
          opened.writers.push(w);
          opened.files.push(w.path);
        }
      } catch (e) {
        await discardSession(files, opened);
        throw failed(e);
      }
      opened.path = opened.files[0];
      return opened;
    }
  }
  throw new CodedError(RecordError.OPEN_FAILED, `cannot find a free name for ${JSON.stringify(safe.name)} in ${files.root}`);
}

/** Close and delete files that never received audio (a start that failed half way). */
export async function discardSession(files: PluginFiles, opened: SessionFiles): Promise<void> {
  for (const w of opened.writers) await w.close().catch(() => undefined);
  for (const n of opened.names.slice(0, opened.writers.length)) await files.remove(n).catch(() => undefined);
  if (opened.dir) await files.remove(opened.dir).catch(() => undefined);
}

function isExists(e: unknown): boolean {
  return (e as { errno?: string }).errno === 'EEXIST' || (e as { code?: string }).code === 'EEXIST';
}

function failed(e: unknown): CodedError {
  return new CodedError(RecordError.OPEN_FAILED, `cannot start recording: ${errorMessage(e)}`);
}

/**
 * A file that open created but whose header could not be written (disk full, I/O error) is deleted
 * — a failed start leaves nothing behind — and the error says so. Any other failure created nothing.
 */
async function removeUnstarted(files: PluginFiles, name: string, e: unknown): Promise<CodedError> {
  if ((e as { code?: unknown }).code !== 'WAV_WRITE_FAILED') return failed(e);
  const why = errorMessage((e as { cause?: unknown }).cause ?? e);
  const removed = await files.remove(name).then(
    () => 'the empty file was removed',
    (r: unknown) => `the empty file could not be removed (${errorMessage(r)})`,
  );
  return new CodedError(
    RecordError.OPEN_FAILED,
    `cannot start recording: writing the header of ${files.path(name)} failed (${why}); ${removed}. Free disk space or fix the folder's permissions, then start again`,
  );
}

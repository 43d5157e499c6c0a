/**
 * The kit as the control half keeps it: for each drum, the sample it plays (and what its file was
 * when read) or the file last refused for it. `sync` reads samples/ again and loads what changed;
 * syncs run one at a time, in order, so a burst of file events ends in the folder's last state.
 *
 * Loading is all-or-nothing per drum: a file that cannot be read, is not a WAV or is too long is
 * refused (log line, `/engine/notice`, `/sampler/refused`) and the drum keeps the sample it had.
 * A good one is published to the audio half (`ctx.audio.share(<drum>, sample)`), then announced
 * (`/sampler/loaded <drum> <file> <frames>`).
 */
import type { ControlContext, PluginFileStat } from 'plugin-sdk';
import { kitFiles, loadSample, SAMPLES_DIR, type LoadedSample, type SampleLimits } from './kit-files.ts';

interface Refusal {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly code: string;
  readonly message: string;
}

interface Drum {
  loaded: LoadedSample | null;
  refused: Refusal | null;
}

export interface SyncOptions {
  /** A file the watch saw change: read again even if its size and time look the same. */
  readonly changed?: string;
  /** Read every file again. */
  readonly force?: boolean;
  /** The first sync: one summary line instead of a line per drum. */
  readonly initial?: boolean;
}

/** The same file, size and time as when it was last read (or refused). */
function same(known: { file: string; size: number; mtimeMs: number } | null, file: string, stat: PluginFileStat | null): boolean {
  return known !== null && stat !== null && known.file === file && known.size === stat.size && known.mtimeMs === stat.mtimeMs;
}

export class Kit {
  private readonly drums = new Map<string, Drum>();
  private ignored: { file: string; reason: string }[] = [];
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly ctx: ControlContext,
    private limits: SampleLimits,
  ) {
    for (const id of ctx.modules) this.drums.set(id, { loaded: null, refused: null });
  }

  /** Reads samples/ again and loads what changed; resolves when done (never rejects: a failure is logged). Runs after the syncs before it. */
  sync(options: SyncOptions = {}): Promise<void> {
    this.queue = this.queue
      .then(() => this.syncNow(options))
      .catch((error: unknown) => this.ctx.log.error(`${SAMPLES_DIR}/ could not be read: ${String((error as Error)?.message ?? error)}`));
    return this.queue;
  }

  setLimits(limits: SampleLimits): void {
    this.limits = limits;
  }

  /** The version is going: nothing more is published. */
  close(): void {
    this.closed = true;
  }

  /** What `/sampler/kit` answers: each drum's sample (or null), the files refused and those ignored. */
  status(): Record<string, unknown> {
    const drums: Record<string, unknown> = {};
    const refused: Record<string, unknown>[] = [];
    for (const [id, d] of this.drums) {
      const l = d.loaded;
      drums[id] = l && { file: l.file, frames: l.frames, channels: l.channels, source: l.source, ...(l.scaledBy ? { scaledBy: l.scaledBy } : {}) };
      if (d.refused) refused.push({ drum: id, file: d.refused.file, code: d.refused.code, message: d.refused.message });
    }
    return { folder: this.ctx.pluginFiles.path(SAMPLES_DIR), sampleRate: this.ctx.sampleRate, drums, refused, ignored: this.ignored };
  }

  private async syncNow(options: SyncOptions): Promise<void> {
    if (this.closed) return;
    const files = this.ctx.pluginFiles;
    const names = (await files.stat(SAMPLES_DIR))?.isDirectory ? await files.readdir(SAMPLES_DIR) : [];
    const { byDrum, ignored } = kitFiles(names, this.ctx.modules);
    this.reportIgnored(ignored);
    for (const [id, drum] of this.drums) {
      if (this.closed) return;
      const file = byDrum.get(id);
      if (file === undefined) {
        if (drum.loaded) await this.remove(id, drum);
        drum.refused = null;
        continue;
      }
      const stat = await files.stat(file);
      const unchanged = same(drum.loaded, file, stat) || same(drum.refused, file, stat);
      if (!options.force && options.changed !== file && unchanged) continue;
      await this.load(id, drum, file, !options.initial);
    }
    if (options.initial) {
      const files = [...this.drums.values()].flatMap((d) => (d.loaded ? [d.loaded.file.slice(SAMPLES_DIR.length + 1)] : []));
      this.ctx.log.info(`${files.length} samples in ${SAMPLES_DIR}/${files.length > 0 ? `: ${files.join(', ')}` : ''}`);
    }
    this.ctx.setStatus({ samples: [...this.drums.values()].filter((d) => d.loaded).length, refused: [...this.drums.values()].filter((d) => d.refused).length });
  }

  private async load(id: string, drum: Drum, file: string, announce: boolean): Promise<void> {
    let loaded: LoadedSample;
    try {
      loaded = await loadSample(this.ctx.pluginFiles, file, this.ctx.sampleRate, this.limits);
    } catch (error) {
      const stat = await this.ctx.pluginFiles.stat(file).catch(() => null);
      const code = String((error as { code?: unknown })?.code ?? 'SAMPLE_REFUSED');
      const message = String((error as Error)?.message ?? error).split('\n')[0];
      drum.refused = { file, size: stat?.size ?? -1, mtimeMs: stat?.mtimeMs ?? -1, code, message };
      const keeps = drum.loaded ? `${id} keeps ${drum.loaded.file}` : `${id} has no sample`;
      this.ctx.log.error(`${file} refused (${code}: ${message}); ${keeps}`);
      this.ctx.broadcast('/sampler/refused', id, file, code, message);
      return;
    }
    if (this.closed) return;
    try {
      await this.ctx.audio.share(id, loaded.sample);
    } catch (error) {
      this.ctx.log.error(`${file}: could not be handed to the audio half (${String((error as Error)?.message ?? error)})`);
      return;
    }
    drum.loaded = loaded;
    drum.refused = null;
    if (announce) {
      const scaled = loaded.scaledBy ? `, scaled by ${loaded.scaledBy.toFixed(3)} to full scale` : '';
      this.ctx.log.info(`${id}: ${file} (${loaded.source}, ${loaded.channels === 1 ? 'mono' : 'stereo'}, ${loaded.frames} frames${scaled})`);
    }
    this.ctx.broadcast('/sampler/loaded', id, file, loaded.frames);
  }

  private async remove(id: string, drum: Drum): Promise<void> {
    const file = drum.loaded?.file ?? '';
    await this.ctx.audio.share(id, null);
    drum.loaded = null;
    this.ctx.log.info(`${id}: ${file} is gone; ${id} has no sample`);
    this.ctx.broadcast('/sampler/removed', id, file);
  }

  /** Warns about files that play no drum, once per change of that list. */
  private reportIgnored(ignored: { file: string; reason: string }[]): void {
    const known = new Set(this.ignored.map((i) => i.file));
    for (const i of ignored) if (!known.has(i.file)) this.ctx.log.warn(`${i.file} ignored: ${i.reason}`);
    this.ignored = ignored;
  }
}

/**
 * Pattern slots on disk (control thread only; nothing here blocks the audio thread).
 *
 * Layout under the patterns folder (`config.paths.patterns`):
 * - `slots/slot_NNN.json` (NNN = 001–128): the current version of each slot, replaced atomically
 *   (temp file + fsync + rename + folder fsync, see atomic-file.ts);
 * - `backups/slot_NNN.<time>-<n>.json`: the versions each save replaced, newest `backups` kept per slot
 *   (hard links, so keeping one costs no copy).
 *
 * Slot numbers are checked before any path is built and every path is confirmed to lie inside the
 * folder, so no name can escape it. Reads refuse symlinks, non-files, empty and oversized files.
 * All reads and writes go through one serial queue (`exclusive`): a save during a save, or a load
 * during a save, waits its turn.
 */
import { copyFile, link, lstat, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ChronusError, ErrorCode } from '../base/errors.ts';
import { removeStaleTemps, writeFileAtomic } from './atomic-file.ts';
import { SerialQueue } from './serial-queue.ts';
import { MAX_SLOT, MAX_SLOT_BYTES, MIN_SLOT, refuse, slotName } from './slot-common.ts';
import { checkDocument, parseSlotText, type ParsedSlot, type SlotDocument } from './slot-schema.ts';
import type { LegacyReader } from './legacy.ts';

export interface PatternStoreOptions {
  /** Old versions kept per slot in backups/ (default 8; 0 keeps none). */
  backups?: number;
}

export interface SlotInfo {
  slot: number;
  bytes: number;
  modified: string;
  /** The name it was saved with (`/pattern/save <slot> <name>`), if any. */
  name?: string;
}

const SLOT_FILE_RE = /^slot_(\d{3})\.json$/;

export function slotFileName(slot: number): string {
  return `slot_${String(slot).padStart(3, '0')}.json`;
}

/** Throws PATTERN_INVALID unless `slot` is an integer 1–128. */
export function checkSlot(slot: unknown): number {
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < MIN_SLOT || slot > MAX_SLOT) {
    throw new ChronusError(ErrorCode.PATTERN_INVALID, `slot must be an integer ${MIN_SLOT}–${MAX_SLOT} (found ${JSON.stringify(slot)})`);
  }
  return slot;
}

export class PatternStore {
  readonly slotsDir: string;
  readonly backupsDir: string;
  /** Settles when the folders exist and stale temp files are gone; every operation waits for it. */
  readonly ready: Promise<void>;
  private readonly queue = new SerialQueue();
  private readonly keep: number;
  /** Slot names read for `list`, by file and version (mtime and size), so an unchanged file is read once. */
  private readonly names = new Map<string, { version: string; name: string | undefined }>();
  /** Backup file names per slot, oldest first (read from disk once). */
  private backupIndex: Map<number, string[]> | null = null;
  private backupSeq = 0;

  constructor(
    readonly root: string,
    options: PatternStoreOptions = {},
  ) {
    this.root = path.resolve(root);
    this.slotsDir = path.join(this.root, 'slots');
    this.backupsDir = path.join(this.root, 'backups');
    this.keep = Math.max(0, Math.floor(options.backups ?? 8));
    this.ready = this.init();
    // A failed init is reported by the first operation that waits for it, not as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  private async init(): Promise<void> {
    await mkdir(this.slotsDir, { recursive: true });
    await mkdir(this.backupsDir, { recursive: true });
    await removeStaleTemps(this.slotsDir);
  }

  /** `slots/slot_NNN.json`, confirmed inside the folder. */
  slotPath(slot: number): string {
    const file = path.join(this.slotsDir, slotFileName(checkSlot(slot)));
    if (path.dirname(file) !== this.slotsDir) throw new ChronusError(ErrorCode.PATH_ESCAPE, `slot path ${file} is outside ${this.slotsDir}`);
    return file;
  }

  /** How messages name a slot file: `patterns/slots/slot_003.json`. */
  label(slot: number): string {
    return [path.basename(this.root), 'slots', slotFileName(slot)].join('/');
  }

  /** Run `task` alone: after every queued save and load, before the next. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      await this.ready;
      return task();
    });
  }

  /** Validate, serialize and store a document (queued); an invalid one is refused, never written. */
  save(slot: number, doc: SlotDocument): Promise<{ file: string; bytes: number }> {
    return this.exclusive(async () => this.write(slot, serialize(checkDocument(doc, this.label(slot)))));
  }

  /** Read and validate a slot (queued). */
  load(slot: number): Promise<ParsedSlot> {
    return this.exclusive(() => this.read(slot));
  }

  /** Used slots (queued, so a list never shows a half-finished save). */
  list(): Promise<SlotInfo[]> {
    return this.exclusive(() => this.scan());
  }

  /** Replace a slot atomically, keeping the old version as a backup. Call inside `exclusive`. */
  async write(slot: number, text: string): Promise<{ file: string; bytes: number }> {
    const file = this.slotPath(slot);
    let backup: string | undefined;
    await writeFileAtomic(file, text, {
      beforeRename: async () => {
        if (this.keep > 0) backup = await this.backup(slot, file);
      },
    });
    // The backup's name needs no fsync of its own: the slots folder's fsync above commits the
    // journal it is in (ext4, xfs); on other file systems a power cut may lose a backup, never the slot.
    if (backup) await this.prune(slot);
    return { file, bytes: Buffer.byteLength(text) };
  }

  /** Read a slot's text and validate it (an old engine's slot migrated with what `legacy` reads). Call inside `exclusive`. */
  async read(slot: number, legacy: readonly LegacyReader[] = []): Promise<ParsedSlot> {
    const file = this.slotPath(slot);
    const label = this.label(slot);
    let info;
    try {
      info = await lstat(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ChronusError(ErrorCode.PATTERN_INVALID, `slot ${slot} is empty (no ${label}); /pattern/list lists the saved slots`);
      }
      throw refuse(label, [`${label}: cannot read the file (${(error as Error).message})`]);
    }
    if (!info.isFile()) throw refuse(label, [`${label}: not a regular file${info.isSymbolicLink() ? ' (a symbolic link)' : ''}`]);
    if (info.size > MAX_SLOT_BYTES) throw refuse(label, [`${label}: ${info.size} bytes; a slot file is at most ${MAX_SLOT_BYTES} bytes`]);
    const fh = await open(file, 'r');
    let text: string;
    try {
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
    return parseSlotText(text, label, legacy);
  }

  private async scan(): Promise<SlotInfo[]> {
    const out: SlotInfo[] = [];
    for (const name of (await readdir(this.slotsDir)).sort()) {
      const m = SLOT_FILE_RE.exec(name);
      if (!m) continue;
      const slot = Number(m[1]);
      if (slot < MIN_SLOT || slot > MAX_SLOT) continue;
      const file = path.join(this.slotsDir, name);
      const st = await lstat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const slotName = await this.nameOf(file, `${st.mtimeMs}:${st.size}`, st.size);
      out.push({ slot, bytes: st.size, modified: st.mtime.toISOString(), ...(slotName === undefined ? {} : { name: slotName }) });
    }
    return out;
  }

  /** The `name` a slot file was saved with (undefined: none, an old-engine file, or unreadable). */
  private async nameOf(file: string, version: string, size: number): Promise<string | undefined> {
    const known = this.names.get(file);
    if (known?.version === version) return known.name;
    let name: string | undefined;
    if (size <= MAX_SLOT_BYTES) {
      try {
        const json = JSON.parse(await readFile(file, 'utf8')) as { name?: unknown };
        const parsed = slotName.safeParse(json?.name);
        name = parsed.success ? parsed.data : undefined;
      } catch {
        name = undefined; // a bad file is reported when it is loaded, not when it is listed
      }
    }
    this.names.set(file, { version, name });
    return name;
  }

  /** Backups of a slot, oldest first. */
  async backups(slot: number): Promise<string[]> {
    await this.ready;
    return [...(await this.index()).get(checkSlot(slot)) ?? []];
  }

  private async index(): Promise<Map<number, string[]>> {
    if (this.backupIndex) return this.backupIndex;
    const index = new Map<number, string[]>();
    for (const name of (await readdir(this.backupsDir)).sort()) {
      const m = /^slot_(\d{3})\..+\.json$/.exec(name);
      if (!m) continue;
      const slot = Number(m[1]);
      if (!index.has(slot)) index.set(slot, []);
      index.get(slot)!.push(name);
    }
    this.backupIndex = index;
    return index;
  }

  /** Keep the current version of a slot under backups/ (a hard link; a copy where links are not possible). */
  private async backup(slot: number, file: string): Promise<string | undefined> {
    const index = await this.index();
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
    const name = `${slotFileName(slot).replace(/\.json$/, '')}.${stamp}-${String(++this.backupSeq).padStart(6, '0')}.json`;
    const target = path.join(this.backupsDir, name);
    try {
      await link(file, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined; // nothing saved in this slot yet
      if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK') await copyFile(file, target);
      else throw error;
    }
    if (!index.has(slot)) index.set(slot, []);
    index.get(slot)!.push(name);
    return name;
  }

  private async prune(slot: number): Promise<void> {
    const list = (await this.index()).get(slot);
    while (list && list.length > this.keep) {
      const oldest = list.shift()!;
      await unlink(path.join(this.backupsDir, oldest)).catch(() => undefined);
    }
  }
}

/** The text written for a document: indented JSON (readable and diffable), ending in a newline. */
export function serialize(doc: SlotDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

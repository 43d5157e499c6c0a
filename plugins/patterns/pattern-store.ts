/**
 * Pattern slots on disk, in the plugin's folder (`ctx.files`: config `paths.patterns`, confined).
 *
 * Layout:
 * - `slots/slot_NNN.json` (NNN = 001–128): the current version of each slot, replaced atomically
 *   (`writeFileAtomic`: temp file, fsync, rename, folder fsync);
 * - `backups/slot_NNN.<time>-<n>.json`: the versions each save replaced, newest `backups` kept per slot
 *   (hard links, so keeping one costs no copy).
 *
 * Slot numbers are checked before any name is built, and `ctx.files` refuses any name that would leave
 * the folder. Reads refuse non-files, empty and oversized files. All reads and writes go through one
 * serial queue (`exclusive`): a save during a save, or a load during a save, waits its turn.
 */
import { CodedError, type LegacyReader, type PluginFiles } from 'plugin-sdk';
import { SerialQueue } from './serial-queue.ts';
import { MAX_SLOT, MAX_SLOT_BYTES, MIN_SLOT, PATTERN_INVALID, refuse, slotName } from './slot-common.ts';
import { parseSlotText, type ParsedSlot, type SlotDocument } from './slot-schema.ts';

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
    throw new CodedError(PATTERN_INVALID, `slot must be an integer ${MIN_SLOT}–${MAX_SLOT} (found ${JSON.stringify(slot)})`);
  }
  return slot;
}

export class PatternStore {
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
    private readonly files: PluginFiles,
    /** How messages name the folder (`patterns`). */
    private readonly folderName: string,
    options: PatternStoreOptions = {},
  ) {
    this.keep = Math.max(0, Math.floor(options.backups ?? 8));
    this.ready = this.init();
    // A failed init is reported by the first operation that waits for it, not as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  private async init(): Promise<void> {
    await this.files.mkdir('slots');
    await this.files.mkdir('backups');
    // Temp files a killed writer left (`.<name>.<pid>.<n>.tmp`).
    for (const name of await this.files.readdir('slots')) if (name.startsWith('.') && name.endsWith('.tmp')) await this.files.remove(`slots/${name}`);
  }

  /** `slots/slot_NNN.json`, relative to the folder. */
  slotFile(slot: number): string {
    return `slots/${slotFileName(checkSlot(slot))}`;
  }

  /** How messages name a slot file: `patterns/slots/slot_003.json`. */
  label(slot: number): string {
    return `${this.folderName}/${this.slotFile(slot)}`;
  }

  /** Run `task` alone: after every queued save and load, before the next. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      await this.ready;
      return task();
    });
  }

  /** Used slots (queued, so a list never shows a half-finished save). */
  list(): Promise<SlotInfo[]> {
    return this.exclusive(() => this.scan());
  }

  /** Replace a slot atomically, keeping the old version as a backup first. Call inside `exclusive`. */
  async write(slot: number, text: string): Promise<{ file: string; bytes: number }> {
    const file = this.slotFile(slot);
    const backup = this.keep > 0 ? await this.backup(slot, file) : undefined;
    await this.files.writeFileAtomic(file, text);
    // The backup's name needs no fsync of its own: the slots folder's fsync above commits the
    // journal it is in (ext4, xfs); on other file systems a power cut may lose a backup, never the slot.
    if (backup) await this.prune(slot);
    return { file: this.files.path(file), bytes: new TextEncoder().encode(text).byteLength };
  }

  /** Read a slot's text and validate it (an old engine's slot migrated with what `legacy` reads). Call inside `exclusive`. */
  async read(slot: number, legacy: readonly LegacyReader[] = []): Promise<ParsedSlot> {
    const file = this.slotFile(slot);
    const label = this.label(slot);
    const info = await this.files.stat(file);
    if (!info) throw new CodedError(PATTERN_INVALID, `slot ${slot} is empty (no ${label}); /pattern/list lists the saved slots`);
    if (!info.isFile) throw refuse(label, [`${label}: not a regular file`]);
    if (info.size > MAX_SLOT_BYTES) throw refuse(label, [`${label}: ${info.size} bytes; a slot file is at most ${MAX_SLOT_BYTES} bytes`]);
    let text: string;
    try {
      text = new TextDecoder().decode(await this.files.readFile(file));
    } catch (error) {
      throw refuse(label, [`${label}: cannot read the file (${(error as Error).message})`]);
    }
    return parseSlotText(text, label, legacy);
  }

  private async scan(): Promise<SlotInfo[]> {
    const out: SlotInfo[] = [];
    for (const name of (await this.files.readdir('slots')).sort()) {
      const m = SLOT_FILE_RE.exec(name);
      if (!m) continue;
      const slot = Number(m[1]);
      if (slot < MIN_SLOT || slot > MAX_SLOT) continue;
      const file = `slots/${name}`;
      const st = await this.files.stat(file).catch(() => null);
      if (!st?.isFile) continue;
      const slotName = await this.nameOf(file, `${st.mtimeMs}:${st.size}`, st.size);
      out.push({ slot, bytes: st.size, modified: new Date(st.mtimeMs).toISOString(), ...(slotName === undefined ? {} : { name: slotName }) });
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
        const json = JSON.parse(new TextDecoder().decode(await this.files.readFile(file))) as { name?: unknown };
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
    return [...((await this.index()).get(checkSlot(slot)) ?? [])];
  }

  private async index(): Promise<Map<number, string[]>> {
    if (this.backupIndex) return this.backupIndex;
    const index = new Map<number, string[]>();
    for (const name of (await this.files.readdir('backups')).sort()) {
      const m = /^slot_(\d{3})\..+\.json$/.exec(name);
      if (!m) continue;
      const slot = Number(m[1]);
      if (!index.has(slot)) index.set(slot, []);
      index.get(slot)!.push(name);
    }
    this.backupIndex = index;
    return index;
  }

  /** Keep the current version of a slot under backups/ (a second name for the same file, so no copy). */
  private async backup(slot: number, file: string): Promise<string | undefined> {
    if (!(await this.files.stat(file))) return undefined; // nothing saved in this slot yet
    const index = await this.index();
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
    const name = `${slotFileName(slot).replace(/\.json$/, '')}.${stamp}-${String(++this.backupSeq).padStart(6, '0')}.json`;
    await this.files.link(file, `backups/${name}`);
    if (!index.has(slot)) index.set(slot, []);
    index.get(slot)!.push(name);
    return name;
  }

  private async prune(slot: number): Promise<void> {
    const list = (await this.index()).get(slot);
    while (list && list.length > this.keep) {
      const oldest = list.shift()!;
      await this.files.remove(`backups/${oldest}`).catch(() => undefined);
    }
  }
}

/** The text written for a document: indented JSON (readable and diffable), ending in a newline. */
export function serialize(doc: SlotDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The session journal (control thread): every run of the engine, written as it plays, so that
 * `chronus render --session <id>` can render it again offline sample for sample.
 *
 * | line                | what                                                                    |
 * | ------------------- | ----------------------------------------------------------------------- |
 * | `head`              | format, block size, smoothing, fades, the config: what the replay needs  |
 * | `call`  f m a [x]   | a call the audio thread ran between blocks, before the block at frame f  |
 * |                     | (plugin load/reload/unload/reset, state, command, share, broadcast);     |
 * |                     | x: it threw. Code and binary data are blobs named by content hash        |
 * | `ev`    b r         | control-ring records the audio thread took in the block starting at b,   |
 * |                     | four numbers each: kind, frame it applies on, target, value              |
 * | `mark`  f label     | `/engine/session/mark <label>`                                          |
 * | `log`   f level text| what the engine logged (plugin reloads, rollbacks, bypasses, errors)    |
 * | `at`    f           | every frame before f is journaled (written with each flush)             |
 * | `end`   f           | closed cleanly                                                           |
 *
 * Frames come from the audio thread (the frame a call ran before, the block a record was taken in),
 * not from what was asked for. Lines are appended every FLUSH_MS and fsynced every SYNC_MS, so a
 * killed engine's journal replays up to its last `at`; a clean close compresses it (gzip).
 */
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import type { Engine } from '../../kernel/engine/engine.ts';
import type { AudioCall } from '../../kernel/host/audio-host.ts';
import { Slot } from '../../kernel/audio/shared-state.ts';
import { JournalKind } from '../../kernel/audio/event-kinds.ts';
import { RouteError } from '../../kernel/osc/osc-router.ts';
import { oscInt64 } from '../../plugin-sdk/control.ts';
import { encodeValue, type BlobSink } from './codec.ts';
import { BLOBS, JOURNAL, JOURNAL_GZ, PID, newSessionDir, pruneSessions } from './store.ts';

export const JOURNAL_VERSION = 1;
const FLUSH_MS = 250;
const SYNC_MS = 1000;
/** Calls that change what the audio thread renders; the others only read. */
const STATE_CALLS: ReadonlySet<AudioCall> = new Set<AudioCall>(['load', 'unload', 'command', 'share', 'setState', 'resetPlugin', 'broadcast']);
const MARK_CHARS = 200;

export interface SessionCaps {
  maxCount: number;
  maxBytes: number;
}

export class SessionJournal implements BlobSink {
  private lines: string[] = [];
  private readonly written = new Set<string>();
  private readonly record = { kind: 0, frame: 0, target: 0, value: 0 };
  private timer: NodeJS.Timeout | undefined;
  private lastSync = 0;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Records the journal ring dropped (full): a replay of this session is not exact. */
  private lost = 0;

  private constructor(
    readonly id: string,
    readonly dir: string,
    private readonly file: FileHandle,
    private readonly engine: Engine,
  ) {}

  /** Start journaling `engine` (before any plugin loads), after pruning old sessions to the caps. */
  static async attach(engine: Engine, root: string, caps: SessionCaps): Promise<SessionJournal> {
    await pruneSessions(root, { maxCount: Math.max(0, caps.maxCount - 1), maxBytes: caps.maxBytes });
    const { id, dir } = await newSessionDir(root);
    writeFileSync(path.join(dir, PID), String(process.pid));
    const file = await open(path.join(dir, JOURNAL), 'a');
    const journal = new SessionJournal(id, dir, file, engine);
    const { audio, config } = engine;
    journal.write({
      t: 'head',
      v: JOURNAL_VERSION,
      id,
      started: new Date().toISOString(),
      sampleRate: audio.sampleRate,
      blockSize: audio.blockSize,
      smoothingMs: config.engine.smoothingMs,
      equalPowerFades: config.engine.reloadCrossfade === 'equal-power',
      backend: audio.backend,
      config,
    });
    audio.onCall = (method, args, frame, failed) => {
      if (STATE_CALLS.has(method)) journal.write({ t: 'call', f: frame, m: method, a: encodeValue(args, journal), ...(failed ? { x: 1 } : {}) });
    };
    engine.log.listen((level, text) => journal.write({ t: 'log', f: journal.frame(), level, text: text.slice(0, 500) }));
    engine.router.mapRoute(
      '/engine/session/mark',
      ([label], ctx) => {
        if (journal.closed) throw new RouteError('SESSION_CLOSED', 'the session journal is closed');
        const f = journal.frame();
        journal.write({ t: 'mark', f, label });
        ctx.reply('/engine/session/marked', id, label, oscInt64(f));
      },
      {
        args: z.tuple([z.string().min(1).max(MARK_CHARS).regex(/^[^\u0000-\u001f]+$/, { error: 'a label is printable text' })]),
        usage: ['label'],
        description: `drop a marker in the session journal (chronus render --session <id> --from/--to accept it); reply /engine/session/marked <session> <label> <frame>`,
      },
    );
    journal.timer = setInterval(() => void journal.flush(), FLUSH_MS);
    journal.timer.unref();
    return journal;
  }

  /** The audio thread's frame count now. */
  private frame(): number {
    return this.engine.audio.shared.values[Slot.FramesRendered];
  }

  put(hash: string, data: string | Uint8Array): void {
    if (this.written.has(hash)) return;
    this.written.add(hash);
    // Written at once (synchronously), so it is on disk before any line naming it.
    writeFileSync(path.join(this.dir, BLOBS, hash), data);
  }

  private write(line: Record<string, unknown>): void {
    if (!this.closed) this.lines.push(JSON.stringify(line));
  }

  /** The journal ring's records as `ev` lines, one per block that took any. */
  private drain(): void {
    const ring = this.engine.audio.journal;
    const rec = this.record;
    let block = -1;
    let values: number[] = [];
    const emit = () => {
      if (block >= 0 && values.length > 0) this.write({ t: 'ev', b: block, r: values });
      values = [];
    };
    while (ring.pop(rec)) {
      if (rec.kind === JournalKind.Taken) {
        emit();
        block = rec.frame;
      } else values.push(rec.kind, rec.frame, rec.target, rec.value);
    }
    emit();
    const lost = ring.dropped;
    if (lost > this.lost) {
      this.write({ t: 'log', f: this.frame(), level: 'error', text: `journal: ${lost - this.lost} event records lost (ring full): a replay of this session is not exact` });
      this.lost = lost;
    }
  }

  /** Everything so far to the file (fsynced at most once a second). Runs one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      // The frame first: every record of a block before it is in the ring by now.
      const at = this.frame();
      this.drain();
      this.write({ t: 'at', f: at });
      const text = this.lines.join('\n') + '\n';
      this.lines = [];
      await this.file.write(text);
      const now = Date.now();
      if (now - this.lastSync >= SYNC_MS) {
        this.lastSync = now;
        await this.file.datasync();
      }
    }).catch(() => {
      // A full disk: the lines are lost; the engine plays on (the next flush tries again).
    });
    return this.flushing;
  }

  /** Last lines, `end`, then compress (journal.ndjson → journal.ndjson.gz). Call after the engine stopped. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.engine.audio.onCall = null;
    this.engine.router.unmapRoute('/engine/session/mark');
    await this.flush();
    this.write({ t: 'end', f: this.frame() });
    await this.flush();
    this.closed = true;
    await this.file.sync();
    await this.file.close();
    const plain = path.join(this.dir, JOURNAL);
    const tmp = path.join(this.dir, `.${JOURNAL_GZ}.tmp`);
    await pipeline(createReadStream(plain), createGzip(), createWriteStream(tmp));
    await rename(tmp, path.join(this.dir, JOURNAL_GZ));
    await rm(plain);
    await rm(path.join(this.dir, PID), { force: true });
  }
}

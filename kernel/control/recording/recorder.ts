/**
 * The recorder's control side: opens the files, drains the recorder plugin's tap ring into streaming
 * WAV writers, keeps their headers valid, and ends sessions cleanly on stop, on /engine/stop, on a
 * write failure (disk full, unwritable) or when the plugin goes away.
 *
 * Thread: control thread only. The audio side (plugins/recorder) only copies blocks into the ring;
 * everything that can block or allocate is here.
 *
 * A session:
 * 1. `start`: sanitize the name, open the file(s) (never overwriting), empty the ring, send
 *    `/engine/record/start <session>` to the plugin; it arms and starts copying at the next block
 *    start, writing that block's frame and the ring position into the tap header (protocol.ts).
 * 2. Every `drainIntervalMs` (25 ms) the ring is read in chunks and appended to the writer(s); every
 *    `syncIntervalMs` (500 ms) each writer's header is brought up to date and fsynced, so a killed
 *    engine leaves a valid file missing at most that much. If the disk falls behind by more than
 *    MAX_BACKLOG_SECONDS the ring is left to fill, and the audio side drops (and counts) whole blocks
 *    rather than ever waiting.
 * 3. `stop`: the plugin stops at a block boundary (or after its fade-out) and publishes the ring
 *    position of its last frame; the writer drains up to it and closes the files.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { debuglog } from 'node:util';
import type { Engine } from '../engine.ts';
import { RouteError } from '../osc-router.ts';
import { oscInt64 } from '../osc-args.ts';
import type { TapRing } from '../../audio/tap-ring.ts';
import type { WavSampleFormat, WavWriter } from '../../../plugin-sdk/wav/index.ts';
import { openWavFile } from '../wav-file.ts';
import { parseFormat, type RecorderConfig } from './config.ts';
import { PLUGIN_ID, RecorderSettings } from './settings.ts';
import { candidateNames, childPath, sanitizeName } from './names.ts';
import {
  CMD_START,
  CMD_STOP,
  RecState,
  TAP_NAME,
  TapKind,
  W_DROPPED,
  W_FIRST_HI,
  W_FIRST_LO,
  W_FRAMES_HI,
  W_FRAMES_LO,
  W_SESSION,
  W_STATE,
  W_TAP,
  type TapChoice,
} from '../../../plugin-sdk/recorder-protocol.ts';

const trace = debuglog('chronus:recorder');

export { PLUGIN_ID };
/** Frames moved from the ring per read. */
const CHUNK_FRAMES = 8192;
/** Audio accepted by the writers but not yet on disk before the writer stops draining the ring. */
const MAX_BACKLOG_SECONDS = 10;
const TWO_32 = 4294967296;

export const RecordError = {
  DISABLED: 'RECORDER_DISABLED',
  NOT_LOADED: 'RECORDER_NOT_LOADED',
  CONFIG_INVALID: 'RECORDER_CONFIG_INVALID',
  BUSY: 'RECORD_BUSY',
  NOT_RECORDING: 'RECORD_NOT_RECORDING',
  BAD_FORMAT: 'RECORD_BAD_FORMAT',
  OPEN_FAILED: 'RECORD_OPEN_FAILED',
  WRITE_FAILED: 'RECORD_WRITE_FAILED',
  INTERRUPTED: 'RECORD_INTERRUPTED',
} as const;

export interface RecordResult {
  /** The file replies name: the recording, or the master file of a stems session. */
  readonly path: string;
  /** Every file of the session (master first for stems). */
  readonly files: readonly string[];
  /** Frames in the file (for stems: in each file). */
  readonly frames: number;
  /** Frames lost because the writer fell behind. */
  readonly dropped: number;
  /** Absolute engine frame of the first sample. */
  readonly firstFrame: number;
  readonly format: WavSampleFormat;
  readonly tap: TapChoice;
  /** Set when the session ended on an error. */
  readonly error: string | null;
}

export interface RecorderStatus {
  state: 'idle' | 'starting' | 'recording' | 'stopping';
  file: string | null;
  files: string[];
  format: WavSampleFormat;
  tap: TapChoice;
  seconds: number;
  frames: number;
  dropped: number;
  /** Seconds the file headers cover as of the last sync (what survives a crash now). */
  syncedSeconds: number;
  rf64: boolean;
  lastError: string | null;
}

/** Time spent by the writer on the control thread (for benchmarks). */
export interface WriterStats {
  ticks: number;
  /** Wall time inside drain ticks (synchronous part: ring reads, sample conversion, queuing). */
  busyMs: number;
  /** process.cpuUsage() deltas around the same sections (all threads of the process during them). */
  cpuUserMicros: number;
  cpuSystemMicros: number;
  framesDrained: number;
}

interface Session {
  readonly id: number;
  readonly path: string;
  readonly files: string[];
  readonly writers: WavWriter[];
  readonly ring: TapRing;
  readonly format: WavSampleFormat;
  readonly tap: TapChoice;
  readonly scratch: Float32Array[];
  /** Per writer, its two channel arrays out of `scratch`. */
  readonly views: Float32Array[][];
  /** Frames appended but not yet written by the writer (disk back-pressure). */
  backlog: number;
  lastSyncAt: number;
  /** The sync in flight, if any. */
  syncing: Promise<void> | null;
  failure: Error | null;
  ending: boolean;
}

function tapName(kind: number): TapChoice {
  return kind === TapKind['pre-fx'] ? 'pre-fx' : kind === TapKind.stems ? 'stems' : 'master';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Recorder {
  /** `plugins.recorder` as it is now: a change while running applies to the next recording. */
  private readonly settings: RecorderSettings;
  readonly stats: WriterStats = { ticks: 0, busyMs: 0, cpuUserMicros: 0, cpuSystemMicros: 0, framesDrained: 0 };
  private session: Session | null = null;
  private phase: RecorderStatus['state'] = 'idle';
  private last: RecordResult | null = null;
  private lastError: string | null = null;
  private nextSession = 1;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private stalled = false;

  constructor(private readonly engine: Engine) {
    this.settings = new RecorderSettings(engine);
  }

  /** The settings now (a config change while running shows here at once). */
  get config(): RecorderConfig {
    return this.settings.current().config;
  }

  /** Why the config section was refused (recording is refused with this message), or null. */
  get configProblem(): string | null {
    return this.settings.current().problem;
  }

  get enabledInConfig(): boolean {
    return this.settings.current().enabled;
  }

  get recordingsDir(): string {
    return this.engine.config.paths.recordings;
  }

  get active(): boolean {
    return this.session !== null;
  }

  /** Create recordings/, recordings/sessions/ and recordings/temp/ (idempotent). */
  async ensureFolders(): Promise<void> {
    const root = this.recordingsDir;
    await mkdir(path.join(root, 'sessions'), { recursive: true });
    await mkdir(path.join(root, 'temp'), { recursive: true });
  }

  /** Start recording. Rejects with a RouteError (code and a message that says what to do). */
  start(name?: unknown, format?: unknown): Promise<RecordResult> {
    return this.serial(() => this.doStart(name, format));
  }

  /** Stop recording; resolves with the closed file(s). Rejects with RECORD_NOT_RECORDING when idle. */
  stop(): Promise<RecordResult> {
    return this.serial(async () => {
      const s = this.session;
      if (!s) {
        this.ring();
        const after = this.lastError ? ` (the last recording ended on an error: ${this.lastError})` : '';
        throw new RouteError(RecordError.NOT_RECORDING, `not recording${after}; /engine/record/start begins a recording`);
      }
      return this.endSession(s, 'stop');
    });
  }

  /** Stop if recording (engine stop and shutdown); resolves with the result or null. */
  stopIfRecording(): Promise<RecordResult | null> {
    return this.serial(async () => (this.session ? this.endSession(this.session, 'stop') : null));
  }

  status(): RecorderStatus {
    const s = this.session;
    const sr = this.engine.audio.sampleRate;
    if (s) {
      const h = s.ring.header;
      const live = Atomics.load(h, W_SESSION) === s.id;
      const frames = live ? (Atomics.load(h, W_FRAMES_LO) >>> 0) + (Atomics.load(h, W_FRAMES_HI) >>> 0) * TWO_32 : 0;
      const dropped = live ? Atomics.load(h, W_DROPPED) >>> 0 : 0;
      const synced = s.writers[0]?.lastSync;
      return {
        state: this.phase,
        file: s.path,
        files: [...s.files],
        format: s.format,
        tap: s.tap,
        seconds: frames / sr,
        frames,
        dropped,
        syncedSeconds: (synced?.frames ?? 0) / sr,
        rf64: synced?.rf64 ?? false,
        lastError: this.lastError,
      };
    }
    const l = this.last;
    return {
      state: this.phase,
      file: l?.path ?? null,
      files: l ? [...l.files] : [],
      format: l?.format ?? this.config.format,
      tap: l?.tap ?? this.config.tap,
      seconds: (l?.frames ?? 0) / sr,
      frames: l?.frames ?? 0,
      dropped: l?.dropped ?? 0,
      syncedSeconds: (l?.frames ?? 0) / sr,
      rf64: false,
      lastError: this.lastError,
    };
  }

  /**
   * Move everything in the ring to the writers now and sync them (tests and offline renders, where
   * the audio is rendered on this thread between awaits). Resolves when the headers are on disk.
   */
  async flush(): Promise<void> {
    const s = this.session;
    if (!s || s.ending) return;
    this.pump(s, true);
    while (s.syncing) await s.syncing;
    await this.syncAll(s);
  }

  /** Tests: stop (true) or resume (false) draining the ring, to provoke an overrun. */
  stall(on: boolean): void {
    this.stalled = on;
  }

  /** Release the timer (engine shutdown after the session ended). */
  dispose(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  // ───────────────────────── sessions ─────────────────────────

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Throws the RouteError that start would (disabled with how to enable it, not loaded, bad config). */
  assertAvailable(): void {
    this.ring();
  }

  /** The plugin's ring, or a RouteError saying how to enable it. */
  private ring(): TapRing {
    if (this.configProblem) {
      throw new RouteError(RecordError.CONFIG_INVALID, `the recorder config is invalid: ${this.configProblem}; fix plugins.recorder in config/local.json`);
    }
    const ring = this.engine.plugins.loaded.has(PLUGIN_ID) ? this.engine.tap(TAP_NAME) : undefined;
    if (ring) return ring;
    if (!this.enabledInConfig) {
      throw new RouteError(
        RecordError.DISABLED,
        'the recorder plugin is disabled: add { "plugins": { "recorder": { "enabled": true } } } to config/local.json (a running engine picks it up; one started with engine.watch false needs a restart)',
      );
    }
    throw new RouteError(
      RecordError.NOT_LOADED,
      'the recorder plugin is enabled but not loaded (see the engine log or /engine/plugins for its load error)',
    );
  }

  private async doStart(name: unknown, formatArg: unknown): Promise<RecordResult> {
    if (this.session) {
      throw new RouteError(RecordError.BUSY, `already recording to ${this.session.path}; send /engine/record/stop first`);
    }
    await this.settings.applyToPlugin();
    const ring = this.ring();
    let format = this.config.format;
    if (formatArg !== undefined && formatArg !== '') {
      const f = parseFormat(formatArg);
      if (!f) throw new RouteError(RecordError.BAD_FORMAT, `format must be int16 (16), int24 (24) or float32 (float, 32), got ${JSON.stringify(formatArg)}`);
      format = f;
    }
    const tap = tapName(Atomics.load(ring.header, W_TAP));
    this.phase = 'starting';
    try {
      const opened = await this.open(name, format, tap, ring.channels);
      const scratch = this.scratchFor(ring.channels);
      // Anything left in the ring belongs to no session (the audio side writes only while recording).
      while (ring.available > 0) ring.read(scratch, CHUNK_FRAMES);
      const id = this.nextSession++ & 0x7fffffff;
      const views = opened.writers.map((_, k) => [scratch[2 * k], scratch[2 * k + 1]]);
      const s: Session = {
        id,
        path: opened.path,
        files: opened.files,
        writers: opened.writers,
        ring,
        format,
        tap,
        scratch,
        views,
        backlog: 0,
        lastSyncAt: performance.now(),
        syncing: null,
        failure: null,
        ending: false,
      };
      let armed: { ok?: boolean; state?: number } | undefined;
      try {
        armed = (await this.engine.audio.call('command', PLUGIN_ID, CMD_START, [id])) as typeof armed;
      } catch (e) {
        await this.discard(opened.writers, opened.files, opened.dir);
        throw new RouteError(RecordError.NOT_LOADED, `the recorder plugin did not start: ${errorMessage(e)}`);
      }
      if (!armed?.ok) {
        await this.discard(opened.writers, opened.files, opened.dir);
        throw new RouteError(RecordError.BUSY, 'the recorder plugin is still finishing a recording; try again');
      }
      this.session = s;
      this.phase = 'recording';
      this.lastError = null;
      this.engine.recording = true;
      this.timer ??= setInterval(() => this.tick(), this.config.drainIntervalMs);
      this.timer.unref();
      trace('session %d: %s (%s, %s)', id, s.path, format, tap);
      return this.result(s, 0, null);
    } finally {
      if (!this.session) this.phase = 'idle';
    }
  }

  /** Open the file (or the stems folder and its files) under a name that does not exist yet. */
  private async open(name: unknown, format: WavSampleFormat, tap: TapChoice, channels: number): Promise<{ path: string; files: string[]; writers: WavWriter[]; dir: string | null }> {
    const now = new Date();
    const safe = sanitizeName(name, now);
    try {
      await this.ensureFolders();
    } catch (e) {
      throw new RouteError(RecordError.OPEN_FAILED, `cannot create the recordings folder ${this.recordingsDir}: ${errorMessage(e)}; fix paths.recordings or its permissions`);
    }
    const options = {
      sampleRate: this.engine.audio.sampleRate,
      channels: 2,
      format,
      ...(this.config.rf64ThresholdBytes === undefined ? {} : { rf64ThresholdBytes: this.config.rf64ThresholdBytes }),
    };
    const exists = (e: unknown) => (e as { errno?: string; code?: string }).errno === 'EEXIST' || (e as { code?: string }).code === 'EEXIST';
    const failed = (e: unknown) => new RouteError(RecordError.OPEN_FAILED, `cannot start recording: ${errorMessage(e)}`);
    if (tap !== 'stems') {
      for (const candidate of candidateNames(safe, '.wav', now)) {
        const file = childPath(this.recordingsDir, candidate);
        try {
          const w = await openWavFile(file, options);
          return { path: file, files: [file], writers: [w], dir: null };
        } catch (e) {
          if (exists(e)) continue;
          throw await this.removeUnstarted(file, e);
        }
      }
    } else {
      const sessions = path.join(this.recordingsDir, 'sessions');
      for (const candidate of candidateNames(safe, '', now)) {
        const dir = childPath(sessions, candidate);
        try {
          await mkdir(dir);
        } catch (e) {
          if (exists(e)) continue;
          throw failed(e);
        }
        const names = ['master.wav'];
        for (let v = 1; v < channels / 2; v++) names.push(`voice${v}.wav`);
        const files = names.map((n) => childPath(dir, n));
        const writers: WavWriter[] = [];
        try {
          for (const f of files) writers.push(await openWavFile(f, options));
        } catch (e) {
          await this.discard(writers, files, dir);
          throw failed(e);
        }
        return { path: files[0], files, writers, dir };
      }
    }
    throw new RouteError(RecordError.OPEN_FAILED, `cannot find a free name for ${JSON.stringify(safe.name)} in ${this.recordingsDir}`);
  }

  /**
   * A file that open created but whose header could not be written (disk full, I/O error) is deleted
   * — a failed start leaves nothing behind — and the error says so. Any other failure created nothing.
   */
  private async removeUnstarted(file: string, e: unknown): Promise<RouteError> {
    if ((e as { code?: unknown }).code !== 'WAV_WRITE_FAILED') return new RouteError(RecordError.OPEN_FAILED, `cannot start recording: ${errorMessage(e)}`);
    const cause = (e as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : errorMessage(e);
    const removed = await rm(file, { force: true }).then(
      () => 'the empty file was removed',
      (r: unknown) => `the empty file could not be removed (${errorMessage(r)})`,
    );
    return new RouteError(
      RecordError.OPEN_FAILED,
      `cannot start recording: writing the header of ${file} failed (${why}); ${removed}. Free disk space or fix the folder's permissions, then start again`,
    );
  }

  /** Close and delete files that never received audio (a start that failed half way). */
  private async discard(writers: WavWriter[], files: string[], dir: string | null): Promise<void> {
    for (const w of writers) await w.close().catch(() => undefined);
    for (const f of files.slice(0, writers.length)) await rm(f, { force: true }).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private scratchFor(channels: number): Float32Array[] {
    const out: Float32Array[] = [];
    for (let c = 0; c < channels; c++) out.push(new Float32Array(CHUNK_FRAMES));
    return out;
  }

  /**
   * End `s`: stop the audio side (unless its ring is gone), wait for its last frame, drain, close.
   * Never rejects; a failure is in the result's `error` and in `lastError`.
   */
  private async endSession(s: Session, why: 'stop' | 'failed' | 'interrupted'): Promise<RecordResult> {
    s.ending = true;
    this.phase = 'stopping';
    const h = s.ring.header;
    if (why !== 'interrupted') {
      let stopped = false;
      try {
        await this.engine.audio.call('command', PLUGIN_ID, CMD_STOP, []);
        stopped = true;
      } catch (e) {
        trace('session %d: stop command failed: %s', s.id, errorMessage(e));
      }
      // Stop lands between blocks: STOPPED at once, or STOPPING while a fade-out plays.
      const deadline = performance.now() + this.config.fadeMs + 2000;
      while (stopped && Atomics.load(h, W_STATE) === RecState.Stopping && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    if (!s.failure) this.pump(s, true);
    const dropped = Atomics.load(h, W_SESSION) === s.id ? Atomics.load(h, W_DROPPED) >>> 0 : 0;
    let frames = 0;
    for (let k = 0; k < s.writers.length; k++) {
      const w = s.writers[k];
      let n: number;
      try {
        n = await w.close();
      } catch (e) {
        s.failure ??= e as Error;
        n = w.lastSync.frames;
      }
      if (k === 0) frames = n;
    }
    const error = s.failure ? errorMessage(s.failure) : why === 'interrupted' ? 'the recorder plugin was reloaded or unloaded during the recording' : null;
    const result = this.result(s, frames, error);
    this.last = result;
    this.lastError = error;
    this.session = null;
    this.phase = 'idle';
    this.engine.recording = false;
    this.dispose();
    if (dropped > 0) this.engine.log.warn(`recording ${s.path}: ${dropped} frames dropped (the writer fell behind the audio)`);
    trace('session %d ended (%s): %d frames, %d dropped', s.id, why, frames, dropped);
    return result;
  }

  private result(s: Session, frames: number, error: string | null): RecordResult {
    const h = s.ring.header;
    const live = Atomics.load(h, W_SESSION) === s.id && Atomics.load(h, W_STATE) >= RecState.Recording;
    return {
      path: s.path,
      files: [...s.files],
      frames,
      dropped: live ? Atomics.load(h, W_DROPPED) >>> 0 : 0,
      firstFrame: live ? (Atomics.load(h, W_FIRST_LO) >>> 0) + (Atomics.load(h, W_FIRST_HI) >>> 0) * TWO_32 : -1,
      format: s.format,
      tap: s.tap,
      error,
    };
  }

  // ───────────────────────── the writer loop ─────────────────────────

  private tick(): void {
    const s = this.session;
    if (!s || s.ending) return;
    if (this.engine.tap(TAP_NAME) !== s.ring) {
      // The plugin was reloaded or unloaded: its ring gets no more frames. Keep what came.
      void this.serial(async () => {
        if (this.session !== s || s.ending) return;
        const r = await this.endSession(s, 'interrupted');
        this.announce(RecordError.INTERRUPTED, `recording ${r.path} ended: ${r.error}`, r);
      });
      return;
    }
    if (this.stalled) return;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    this.pump(s, false);
    if (t0 - s.lastSyncAt >= this.config.syncIntervalMs && !s.syncing) {
      s.lastSyncAt = t0;
      void this.syncAll(s);
    }
    const c1 = process.cpuUsage(c0);
    this.stats.ticks++;
    this.stats.busyMs += performance.now() - t0;
    this.stats.cpuUserMicros += c1.user;
    this.stats.cpuSystemMicros += c1.system;
  }

  /** Move ring frames to the writers. `all`: ignore the disk back-pressure limit (final drain). */
  private pump(s: Session, all: boolean): number {
    if (s.failure) return 0;
    const h = s.ring.header;
    if (Atomics.load(h, W_SESSION) !== s.id || Atomics.load(h, W_STATE) < RecState.Recording) return 0;
    const limit = MAX_BACKLOG_SECONDS * this.engine.audio.sampleRate;
    let total = 0;
    while (all || s.backlog < limit) {
      const n = s.ring.read(s.scratch, CHUNK_FRAMES);
      if (n === 0) break;
      total += n;
      s.backlog += n;
      for (let k = 0; k < s.writers.length; k++) {
        const last = k === s.writers.length - 1;
        s.writers[k].append(s.views[k], n).then(
          () => {
            if (last) s.backlog -= n;
          },
          (e: unknown) => {
            if (last) s.backlog -= n;
            this.fail(s, e);
          },
        );
      }
    }
    this.stats.framesDrained += total;
    return total;
  }

  private syncAll(s: Session): Promise<void> {
    if (s.syncing) return s.syncing;
    if (s.failure) return Promise.resolve();
    s.syncing = Promise.all(s.writers.map((w) => w.sync())).then(
      () => {
        s.syncing = null;
      },
      (e: unknown) => {
        s.syncing = null;
        this.fail(s, e);
      },
    );
    return s.syncing;
  }

  /** A write failed (disk full, unwritable, I/O error): end the session; the file stays valid to its last sync. */
  private fail(s: Session, e: unknown): void {
    if (s.failure) return;
    s.failure = e instanceof Error ? e : new Error(String(e));
    if (s.ending) return;
    void this.serial(async () => {
      if (this.session !== s || s.ending) return;
      const r = await this.endSession(s, 'failed');
      this.announce(
        RecordError.WRITE_FAILED,
        `recording stopped: ${r.error}; the file is valid up to ${(r.frames / this.engine.audio.sampleRate).toFixed(2)} s (${r.frames} frames) and the engine keeps playing`,
        r,
      );
    });
  }

  /** Tell every client a session ended on its own: `/error /engine/record <code> <message>`, then `/engine/record/stopped`. */
  private announce(code: string, message: string, r: RecordResult): void {
    this.engine.log.error(message);
    this.engine.broadcast('/error', ['/engine/record', code, message]);
    this.engine.broadcast('/engine/record/stopped', [r.path, oscInt64(r.frames)]);
  }
}

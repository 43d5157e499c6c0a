/**
 * The recorder's control half at work: opens the files in the plugin's folder, drains the audio
 * half's tap ring into streaming WAV writers (plugin-sdk's `openWavWriter`), keeps their headers valid,
 * and ends sessions cleanly on stop, on /engine/stop, on a write failure (disk full, unwritable) or
 * when the audio half goes away.
 *
 * Thread: control thread only. The audio half (index.ts, core.ts) only copies blocks into the ring;
 * everything that can block or allocate is here. Every file is opened through `ctx.files` (the
 * recordings folder): a name can never reach outside it.
 *
 * A session:
 * 1. `start`: the audio half is made again first if the config asks for other audio settings (tap,
 *    stems, fade, ring size); sanitize the name, open the file(s) (never overwriting), empty the ring,
 *    send CMD_START with the session number; the audio half arms and starts copying at the next block
 *    start, writing that block's frame and the ring position into the tap header (protocol.ts).
 * 2. Every `drainIntervalMs` (25 ms) the ring is read in chunks and appended to the writer(s); every
 *    `syncIntervalMs` (500 ms) each writer's header is brought up to date and fsynced, so a killed
 *    engine leaves a valid file missing at most that much. If the disk falls behind by more than
 *    MAX_BACKLOG_SECONDS the ring is left to fill, and the audio half drops (and counts) whole blocks
 *    rather than ever waiting.
 * 3. `stop`: the audio half stops at a block boundary (or after its fade-out) and publishes the ring
 *    position of its last frame; the writer drains up to it and closes the files.
 */
import { CodedError, oscInt64, type ControlContext, type TapReader, type WavSampleFormat, type WavWriter } from 'plugin-sdk';
import { parseFormat, readSettings, type RecorderConfig, type RecorderSettings } from './config.ts';
import { errorMessage, RecordError } from './errors.ts';
import { discardSession, ensureFolders, openSession } from './session-files.ts';
import {
  audioSettings,
  CMD_START,
  CMD_STOP,
  RecState,
  ringDiffers,
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
  type CommandReply,
  type TapChoice,
} from './protocol.ts';

/** Frames moved from the ring per read. */
const CHUNK_FRAMES = 8192;
/** Audio accepted by the writers but not yet on disk before the writer stops draining the ring. */
const MAX_BACKLOG_SECONDS = 10;
const TWO_32 = 4294967296;

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
  framesDrained: number;
}

interface Session {
  readonly id: number;
  readonly path: string;
  readonly files: string[];
  readonly writers: WavWriter[];
  readonly ring: TapReader;
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

/** What a version hands to the one that replaces it (hot reload): its session (ended by the new one) and what status shows. */
export interface RecorderState {
  readonly session: Session | null;
  readonly last: RecordResult | null;
  readonly lastError: string | null;
  readonly nextSession: number;
}

function tapName(kind: number): TapChoice {
  return kind === TapKind['pre-fx'] ? 'pre-fx' : kind === TapKind.stems ? 'stems' : 'master';
}

export class Recorder {
  readonly stats: WriterStats = { ticks: 0, busyMs: 0, framesDrained: 0 };
  private session: Session | null = null;
  private phase: RecorderStatus['state'] = 'idle';
  private last: RecordResult | null = null;
  private lastError: string | null = null;
  private nextSession = 1;
  private timer = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private stalled = false;
  /** Handed over to a new version: a start still in flight here gives up. */
  private retired = false;
  private settingsFor: unknown = undefined;
  private settingsNow: RecorderSettings | null = null;

  constructor(private readonly ctx: ControlContext) {}

  /** `plugins.recorder` as it is now (a config change while running shows here at once; a recording keeps what it started with). */
  get settings(): RecorderSettings {
    const section = this.ctx.config;
    if (this.settingsNow === null || this.settingsFor !== section) {
      this.settingsFor = section;
      this.settingsNow = readSettings(section);
    }
    return this.settingsNow;
  }

  get config(): RecorderConfig {
    return this.settings.config;
  }

  get active(): boolean {
    return this.session !== null;
  }

  /** Create the folder's sessions/ and temp/ (idempotent). */
  ensureFolders(): Promise<void> {
    return ensureFolders(this.ctx.files);
  }

  /** Start recording. Rejects with a CodedError (code and a message that says what to do). */
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
        throw new CodedError(RecordError.NOT_RECORDING, `not recording${after}; /engine/record/start begins a recording`);
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
    const sr = this.ctx.sampleRate;
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

  /** Throws the CodedError that start would (bad config, audio half missing). */
  assertAvailable(): void {
    this.ring();
  }

  /** Hot reload: this version is replaced; its state (a running session included) goes to the new one. */
  handOver(): RecorderState {
    this.retired = true;
    this.stopTimer();
    const state: RecorderState = { session: this.session, last: this.last, lastError: this.lastError, nextSession: this.nextSession };
    this.session = null;
    return state;
  }

  /**
   * Hot reload: take over what the version before had. A session it was recording ends here, as
   * interrupted (what was recorded is kept, clients are told): a new version may read its ring differently.
   */
  adopt(state: RecorderState): void {
    this.last = state.last;
    this.lastError = state.lastError;
    this.nextSession = state.nextSession;
    const s = state.session;
    // One the old version was already ending (a stop in flight) is finished there.
    if (s && !s.ending) void this.serial(() => this.interrupt(s, true));
  }

  /** Unloaded (folder removed or plugin disabled): a running session ends here, its files closed and valid. */
  async retire(): Promise<void> {
    this.retired = true;
    await this.serial(async () => {
      if (this.session) await this.interrupt(this.session, false);
    });
    this.stopTimer();
  }

  // ───────────────────────── sessions ─────────────────────────

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** The audio half's ring, or a CodedError saying what is wrong. */
  private ring(): TapReader {
    const { problem } = this.settings;
    if (problem) {
      throw new CodedError(RecordError.CONFIG_INVALID, `the recorder config is invalid: ${problem}; fix plugins.recorder in config/local.json`);
    }
    const ring = this.ctx.audio.tap(TAP_NAME);
    if (ring) return ring;
    throw new CodedError(RecordError.NOT_LOADED, "the recorder plugin's audio half is not running (see the engine log or /engine/plugins)");
  }

  /**
   * Before a recording: when the audio half was made with other settings than the config now asks
   * for (tap, stem count, fade, ring size changed while running), make it again so they apply.
   */
  private async applyToAudio(): Promise<void> {
    if (this.settings.problem) return;
    const ring = this.ctx.audio.tap(TAP_NAME);
    if (!ring) return;
    const wanted = audioSettings(this.ctx.config, this.ctx.numVoices, this.ctx.sampleRate, this.ctx.blockSize);
    if (!ringDiffers(ring, wanted)) return;
    await this.ctx.audio.reload();
    const what = `tap ${wanted.tap}${wanted.tap === 'stems' ? ` (${wanted.voices} voices)` : ''}`;
    this.ctx.log.info(`${what} from the config takes effect for this recording (audio half made again)`);
  }

  private async doStart(name: unknown, formatArg: unknown): Promise<RecordResult> {
    if (this.session) {
      throw new CodedError(RecordError.BUSY, `already recording to ${this.session.path}; send /engine/record/stop first`);
    }
    await this.applyToAudio();
    const ring = this.ring();
    let format = this.config.format;
    if (formatArg !== undefined && formatArg !== '') {
      const f = parseFormat(formatArg);
      if (!f) throw new CodedError(RecordError.BAD_FORMAT, `format must be int16 (16), int24 (24) or float32 (float, 32), got ${JSON.stringify(formatArg)}`);
      format = f;
    }
    const tap = tapName(Atomics.load(ring.header, W_TAP));
    this.phase = 'starting';
    try {
      const opened = await openSession(this.ctx.files, name, {
        sampleRate: this.ctx.sampleRate,
        format,
        stereoFiles: ring.channels / 2,
        stems: tap === 'stems',
        rf64ThresholdBytes: this.config.rf64ThresholdBytes,
      });
      const scratch = this.scratchFor(ring.channels);
      // Anything left in the ring belongs to no session (the audio half writes only while recording).
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
        lastSyncAt: this.ctx.timers.now(),
        syncing: null,
        failure: null,
        ending: false,
      };
      let armed: CommandReply | undefined;
      try {
        armed = (await this.ctx.audio.command(CMD_START, [id])) as CommandReply | undefined;
      } catch (e) {
        await discardSession(this.ctx.files, opened);
        throw new CodedError(RecordError.NOT_LOADED, `the recorder's audio half did not start: ${errorMessage(e)}`);
      }
      if (this.retired) {
        // Replaced while starting: the new version never knew this session.
        await this.ctx.audio.command(CMD_STOP, []).catch(() => undefined);
        await discardSession(this.ctx.files, opened);
        throw new CodedError(RecordError.INTERRUPTED, 'the recorder plugin was reloaded while the recording started; start it again');
      }
      if (!armed?.ok) {
        await discardSession(this.ctx.files, opened);
        throw new CodedError(RecordError.BUSY, 'the recorder plugin is still finishing a recording; try again');
      }
      this.session = s;
      this.phase = 'recording';
      this.lastError = null;
      this.ctx.setStatus({ active: true, file: s.path });
      this.stopTimer();
      this.timer = this.ctx.timers.setInterval(() => this.tick(), this.config.drainIntervalMs);
      return this.result(s, 0, null);
    } finally {
      if (!this.session) this.phase = 'idle';
    }
  }

  private scratchFor(channels: number): Float32Array[] {
    const out: Float32Array[] = [];
    for (let c = 0; c < channels; c++) out.push(new Float32Array(CHUNK_FRAMES));
    return out;
  }

  /** Waits `ms` on this version's timers; false at once when they are closed (this version was replaced). */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.ctx.timers.setTimeout(() => resolve(true), ms) === 0) resolve(false);
    });
  }

  /**
   * End `s`: stop the audio half (unless its ring is gone), wait for its last frame, drain, close.
   * Never rejects; a failure is in the result's `error` and in `lastError`.
   */
  private async endSession(s: Session, why: 'stop' | 'failed' | 'interrupted'): Promise<RecordResult> {
    s.ending = true;
    this.phase = 'stopping';
    const h = s.ring.header;
    if (this.ctx.audio.tap(TAP_NAME) === s.ring) {
      let stopped = false;
      try {
        await this.ctx.audio.command(CMD_STOP, []);
        stopped = true;
      } catch {
        // The audio half is gone: its ring gets no more frames; what came is kept.
      }
      // Stop lands between blocks: STOPPED at once, or STOPPING while a fade-out plays.
      const deadline = this.ctx.timers.now() + this.config.fadeMs + 2000;
      while (stopped && Atomics.load(h, W_STATE) === RecState.Stopping && this.ctx.timers.now() < deadline) {
        if (!(await this.sleep(2))) break;
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
    if (this.session === s) this.session = null;
    this.phase = 'idle';
    this.ctx.setStatus({ active: false });
    this.stopTimer();
    if (dropped > 0) this.ctx.log.warn(`recording ${s.path}: ${dropped} frames dropped (the writer fell behind the audio)`);
    return result;
  }

  /** End `s` because the plugin was reloaded or unloaded (or its audio half replaced); `tell` clients (a version that is gone cannot). */
  private async interrupt(s: Session, tell: boolean): Promise<void> {
    const r = await this.endSession(s, 'interrupted');
    const message = `recording ${r.path} ended: ${r.error}`;
    if (tell) this.announce(RecordError.INTERRUPTED, message, r);
    else this.ctx.log.error(`${message}; the file is valid (${r.frames} frames)`);
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

  private stopTimer(): void {
    if (this.timer !== 0) this.ctx.timers.clear(this.timer);
    this.timer = 0;
  }

  // ───────────────────────── the writer loop ─────────────────────────

  private tick(): void {
    const s = this.session;
    if (!s || s.ending) return;
    if (this.ctx.audio.tap(TAP_NAME) !== s.ring) {
      // The audio half was made again or removed: its ring gets no more frames. Keep what came.
      void this.serial(async () => {
        if (this.session === s && !s.ending) await this.interrupt(s, true);
      });
      return;
    }
    if (this.stalled) return;
    const t0 = this.ctx.timers.now();
    this.pump(s, false);
    if (t0 - s.lastSyncAt >= this.config.syncIntervalMs && !s.syncing) {
      s.lastSyncAt = t0;
      void this.syncAll(s);
    }
    this.stats.ticks++;
    this.stats.busyMs += this.ctx.timers.now() - t0;
  }

  /** Move ring frames to the writers. `all`: ignore the disk back-pressure limit (final drain). */
  private pump(s: Session, all: boolean): number {
    if (s.failure) return 0;
    const h = s.ring.header;
    if (Atomics.load(h, W_SESSION) !== s.id || Atomics.load(h, W_STATE) < RecState.Recording) return 0;
    const limit = MAX_BACKLOG_SECONDS * this.ctx.sampleRate;
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
    s.failure = typeof (e as { message?: unknown } | null)?.message === 'string' ? (e as Error) : new Error(String(e));
    if (s.ending) return;
    void this.serial(async () => {
      if (this.session !== s || s.ending) return;
      const r = await this.endSession(s, 'failed');
      this.announce(
        RecordError.WRITE_FAILED,
        `recording stopped: ${r.error}; the file is valid up to ${(r.frames / this.ctx.sampleRate).toFixed(2)} s (${r.frames} frames) and the engine keeps playing`,
        r,
      );
    });
  }

  /** Tell every client a session ended on its own: `/error /engine/record <code> <message>`, then `/engine/record/stopped`. */
  private announce(code: string, message: string, r: RecordResult): void {
    this.ctx.log.error(message);
    this.ctx.broadcast('/error', '/engine/record', code, message);
    this.ctx.broadcast('/engine/record/stopped', r.path, oscInt64(r.frames));
  }
}

/**
 * Streaming WAV writer: a library of the SDK for a plugin's control half (the recorder) and for the
 * kernel's offline renderer.
 *
 * Thread: control thread only (file I/O, allocation, promises). Never call it from the audio thread;
 * the recorder drains its tap ring on the control thread and hands blocks to `append`.
 *
 * - It opens no path itself: it is given a `WavTarget` (a label for messages, a way to open the file,
 *   a way to make its name durable). A control half builds one on its own folder (`ctx.files`), so a
 *   plugin writes only there; the kernel has an adapter for plain paths (cli/render/wav-file.ts).
 *
 * - Formats: `int16`, `int24` (PCM) and `float32` (IEEE float). Header layout: `header.ts`.
 * - Input is planar: one `Float32Array` per channel (like the kernel's buses), `frames` frames from
 *   index 0 of each. Pass `subarray` views to start elsewhere. Samples are converted at once into a
 *   preallocated ~1 MiB chunk buffer, so the caller may reuse its arrays as soon as `append` returns
 *   (before its promise settles).
 * - Full chunks are written with positional `write` calls of ~1 MiB (DESIGN.md: big writes
 *   in ~1 MB chunks keep libuv's threadpool free for audio). Writes run one at a time, in order.
 * - `sync()` writes what is buffered, fdatasyncs the audio, then rewrites the header with the new sizes
 *   and fdatasyncs again: a process (or machine) dying after `sync()` resolves leaves a valid file
 *   with at least the synced frames. Between syncs the header lags the data; readers see the synced
 *   length. The recorder should call `sync()` about once a second.
 * - Once the data chunk passes `rf64ThresholdBytes` (checked at each sync and at close), the header is
 *   rewritten in place as RF64 (EBU Tech 3306): the reserved `JUNK` chunk becomes `ds64`.
 * - Every failure rejects with a `WavWriterError` whose message names the path; after a failure the
 *   header is no longer touched, so the file stays valid up to the last successful sync.
 *
 * Sample conversion: values are clipped to [-1, 1] and scaled by 2^(bits−1) − 1 (so ±1.0 gives
 * ±32767 / ±8388607), rounded to nearest; NaN gives 0. float32 is written as is (no clipping) except
 * that NaN and ±Infinity give 0, since a non-finite sample makes the file unusable in most players.
 */
import { endianness } from 'node:os';
import { Int24StereoEncoder } from './encode-int24.ts';
import { debuglog } from 'node:util';
import type { PluginFile } from '../control.ts';
import {
  U32_MAX,
  isWavSampleFormat,
  riffSizeFor,
  wavLayout,
  writeWavHeader,
  type WavLayout,
  type WavSampleFormat,
} from './header.ts';

export type { WavSampleFormat } from './header.ts';

const trace = debuglog('chronus:wav');

/** Default RF64 switch point: 4 GiB minus 1 MiB of margin (the header and pad byte fit well inside). */
export const DEFAULT_RF64_THRESHOLD_BYTES = 0x1_0000_0000 - 0x10_0000;
/** Default size of one file write. */
export const DEFAULT_CHUNK_BYTES = 0x10_0000;

/** Where a writer writes: one file, opened by whoever may open it. */
export interface WavTarget {
  /** What messages call the file (its path). */
  readonly path: string;
  /** Opens the file for writing: 'wx' creates it and fails (EEXIST) if it exists; 'w' replaces it. */
  open(flags: 'wx' | 'w'): Promise<PluginFile>;
  /** fsyncs the folder holding the file, so its name survives a power cut (best effort: a failure is ignored). */
  syncDir?(): Promise<void>;
}

export interface WavWriterOptions {
  /** Frames per second, integer. */
  readonly sampleRate: number;
  /** Interleaved channels in the file, 1 … 65535 (append takes exactly this many arrays). */
  readonly channels: number;
  readonly format: WavSampleFormat;
  /** Become RF64 once the data chunk is larger than this many bytes. Default 4 GiB − 1 MiB; small values are for tests. */
  readonly rf64ThresholdBytes?: number;
  /** Bytes per file write (rounded down to whole frames). Default 1 MiB. */
  readonly chunkBytes?: number;
  /** Replace an existing file. Default false: opening an existing path fails with WAV_OPEN_FAILED (EEXIST). */
  readonly overwrite?: boolean;
  /**
   * fdatasync at open, at each `sync()` and at close, so that a power cut leaves the synced frames
   * (the recorder). Default true. False for a file that can be made again (an offline render): its
   * header is still kept valid, but nothing waits for the disk.
   */
  readonly durable?: boolean;
}

/** What a sync (or close) committed to the header. */
export interface WavSyncInfo {
  /** Frames the header now covers. */
  readonly frames: number;
  /** Bytes of audio in the data chunk (without the pad byte). */
  readonly dataBytes: number;
  readonly rf64: boolean;
}

export type WavWriterErrorCode =
  | 'WAV_BAD_OPTIONS'
  | 'WAV_BAD_INPUT'
  | 'WAV_OPEN_FAILED'
  | 'WAV_WRITE_FAILED'
  | 'WAV_CLOSED';

export class WavWriterError extends Error {
  override readonly name = 'WavWriterError';
  readonly code: WavWriterErrorCode;
  readonly path: string;
  /** The system error code behind it (ENOSPC, EACCES, …), when there is one. */
  readonly errno: string | undefined;

  constructor(code: WavWriterErrorCode, path: string, message: string, cause?: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = path;
    const sys = (cause as { code?: unknown } | undefined)?.code;
    this.errno = typeof sys === 'string' ? sys : undefined;
  }
}

/**
 * One reusable write buffer with typed views made once (its ArrayBuffer is its own, offset 0, one
 * byte longer than `buf`: int24 samples are stored as 4-byte words 3 bytes apart, see encodeInt24).
 */
interface Chunk {
  readonly buf: Buffer;
  readonly i16: Int16Array;
  readonly f32: Float32Array;
  readonly view: DataView;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function newChunk(bytes: number): Chunk {
  const whole = Buffer.allocUnsafeSlow(bytes + 1);
  const buf = whole.subarray(0, bytes);
  return {
    buf,
    i16: new Int16Array(buf.buffer, buf.byteOffset, bytes >> 1),
    f32: new Float32Array(buf.buffer, buf.byteOffset, bytes >> 2),
    view: new DataView(whole.buffer, whole.byteOffset, bytes + 1),
  };
}

/** Clip to [-1, 1], scale, round; NaN → 0. */
function quantize(x: number, scale: number): number {
  return x > 1 ? scale : x >= -1 ? Math.round(x * scale) : x < -1 ? -scale : 0;
}

/** As `quantize(x, 8388607)`: floor(y + 0.5) is Math.round exactly for a float32 x (y has ≤ 47 significant bits), and faster. */
function quantize24(x: number): number {
  const y = x * 8388607;
  return y > 8388607 ? 8388607 : y >= -8388607 ? Math.floor(y + 0.5) : y < -8388607 ? -8388607 : 0;
}

function finiteOrZero(x: number): number {
  return x - x === 0 ? x : 0;
}

/** Encode `frames` frames from `src[c][start…]` into `chunk` at byte offset `at` (a multiple of the frame size). */
function encodeInt16(chunk: Chunk, at: number, src: readonly Float32Array[], start: number, frames: number): void {
  const out = chunk.i16;
  const nch = src.length;
  const end = start + frames;
  let o = at >> 1;
  if (nch === 2) {
    const l = src[0];
    const r = src[1];
    for (let i = start; i < end; i++) {
      out[o++] = quantize(l[i], 32767);
      out[o++] = quantize(r[i], 32767);
    }
  } else {
    for (let i = start; i < end; i++) for (let c = 0; c < nch; c++) out[o++] = quantize(src[c][i], 32767);
  }
  if (!LITTLE_ENDIAN_HOST) chunk.buf.subarray(at, at + frames * nch * 2).swap16();
}

function encodeInt24(chunk: Chunk, at: number, src: readonly Float32Array[], start: number, frames: number): void {
  // Each sample is stored as a little-endian 32-bit word 3 bytes after the previous one: its low three
  // bytes are the sample, its high byte is overwritten by the next sample (or lands in the chunk's
  // spare byte). One store per sample instead of three.
  const view = chunk.view;
  const nch = src.length;
  const end = start + frames;
  let o = at;
  if (nch === 2) {
    const l = src[0];
    const r = src[1];
    for (let i = start; i < end; i++) {
      view.setInt32(o, quantize24(l[i]), true);
      view.setInt32(o + 3, quantize24(r[i]), true);
      o += 6;
    }
  } else {
    for (let i = start; i < end; i++) {
      for (let c = 0; c < nch; c++) {
        view.setInt32(o, quantize24(src[c][i]), true);
        o += 3;
      }
    }
  }
}

function encodeFloat32(chunk: Chunk, at: number, src: readonly Float32Array[], start: number, frames: number): void {
  const out = chunk.f32;
  const nch = src.length;
  const end = start + frames;
  let o = at >> 2;
  if (nch === 2) {
    const l = src[0];
    const r = src[1];
    for (let i = start; i < end; i++) {
      out[o++] = finiteOrZero(l[i]);
      out[o++] = finiteOrZero(r[i]);
    }
  } else {
    for (let i = start; i < end; i++) for (let c = 0; c < nch; c++) out[o++] = finiteOrZero(src[c][i]);
  }
  if (!LITTLE_ENDIAN_HOST) chunk.buf.subarray(at, at + frames * nch * 4).swap32();
}

type Encoder = typeof encodeInt16;

/** encodeInt24 for two channels in WebAssembly (encode-int24.ts: the same bytes, eight times faster). */
function int24Stereo(): Encoder {
  const wasm = new Int24StereoEncoder();
  return (chunk, at, src, start, frames) => wasm.encode(chunk.buf, at, src[0], src[1], start, frames);
}
const ENCODERS: Readonly<Record<WavSampleFormat, Encoder>> = {
  int16: encodeInt16,
  int24: encodeInt24,
  float32: encodeFloat32,
};

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkOptions(path: string, o: WavWriterOptions): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'path must be a non-empty string';
  if (!isWavSampleFormat(o.format)) return `format must be 'int16', 'int24' or 'float32', got ${JSON.stringify(o.format)}`;
  const bytesPerFrameMax = Math.floor(0xffff / (o.format === 'int16' ? 2 : o.format === 'int24' ? 3 : 4));
  if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > bytesPerFrameMax) {
    return `channels must be an integer in 1…${bytesPerFrameMax} for ${o.format}, got ${o.channels}`;
  }
  if (!Number.isInteger(o.sampleRate) || o.sampleRate < 1 || o.sampleRate * o.channels * 4 > U32_MAX) {
    return `sampleRate must be a positive integer (byte rate within 32 bits), got ${o.sampleRate}`;
  }
  const maxThreshold = U32_MAX - wavLayout(o.format, o.channels, o.sampleRate).headerBytes - 1;
  const t = o.rf64ThresholdBytes;
  if (t !== undefined && (!Number.isInteger(t) || t < 0 || t > maxThreshold)) {
    return `rf64ThresholdBytes must be an integer in 0…${maxThreshold} (a RIFF header holds 32-bit sizes), got ${t}`;
  }
  const cb = o.chunkBytes;
  if (cb !== undefined && (!Number.isInteger(cb) || cb < 4 * o.channels || cb > 0x4000_0000)) {
    return `chunkBytes must be an integer from one frame up to 1 GiB, got ${cb}`;
  }
  return null;
}

export class WavWriter {
  readonly path: string;
  readonly layout: WavLayout;
  readonly rf64ThresholdBytes: number;

  private readonly fh: PluginFile;
  private readonly durable: boolean;
  private readonly encode: Encoder;
  private readonly chunkCapacity: number;
  private readonly header: Buffer;
  private readonly pad = Buffer.alloc(1);
  private readonly spare: Chunk[] = [];
  private fill: Chunk;
  private fillBytes = 0;
  /** Audio bytes handed to the write queue (their file position is fixed). */
  private queuedBytes = 0;
  private synced: WavSyncInfo = { frames: 0, dataBytes: 0, rf64: false };
  private rf64 = false;
  /** Serialized file operations; never rejects (failures land in `failure`). */
  private tail: Promise<void> = Promise.resolve();
  private failure: WavWriterError | null = null;
  private closing: Promise<number> | null = null;

  private constructor(path: string, fh: PluginFile, layout: WavLayout, options: WavWriterOptions) {
    this.path = path;
    this.fh = fh;
    this.durable = options.durable ?? true;
    this.layout = layout;
    this.rf64ThresholdBytes = options.rf64ThresholdBytes ?? DEFAULT_RF64_THRESHOLD_BYTES;
    this.encode = layout.format === 'int24' && options.channels === 2 ? int24Stereo() : ENCODERS[layout.format];
    const wanted = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.chunkCapacity = Math.max(1, Math.floor(wanted / layout.blockAlign)) * layout.blockAlign;
    this.fill = newChunk(this.chunkCapacity);
    this.header = Buffer.alloc(layout.headerBytes);
  }

  /**
   * Create the file (fails if it exists unless `overwrite`), write an empty but valid header and fsync.
   * Rejects with WAV_BAD_OPTIONS or WAV_OPEN_FAILED (message names the path).
   */
  static async open(target: WavTarget, options: WavWriterOptions): Promise<WavWriter> {
    const path = target.path;
    const problem = checkOptions(path, options);
    if (problem !== null) {
      throw new WavWriterError('WAV_BAD_OPTIONS', String(path), `cannot open ${JSON.stringify(path)}: ${problem}`);
    }
    const layout = wavLayout(options.format, options.channels, options.sampleRate);
    let fh: PluginFile;
    try {
      fh = await target.open(options.overwrite === true ? 'w' : 'wx');
    } catch (err) {
      throw new WavWriterError(
        'WAV_OPEN_FAILED',
        path,
        `cannot create ${JSON.stringify(path)}: ${describe(err)} — check that the folder exists and is writable` +
          (options.overwrite === true ? '' : ' and that no file of that name exists'),
        err,
      );
    }
    const writer = new WavWriter(path, fh, layout, options);
    try {
      await writer.commit(0);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw writer.writeError('write the header of', err);
    }
    // Not fatal: the file itself is fsynced; only a power loss right after creation could lose the name.
    if (writer.durable) await target.syncDir?.().catch(() => undefined);
    return writer;
  }

  /** Frames accepted by `append` so far (some may not be on disk or in the header yet). */
  get framesWritten(): number {
    return (this.queuedBytes + this.fillBytes) / this.layout.blockAlign;
  }

  /** What the header on disk covers as of the last successful sync. */
  get lastSync(): WavSyncInfo {
    return this.synced;
  }

  get isRf64(): boolean {
    return this.rf64;
  }

  /**
   * Append `frames` frames (default: the length of the first array) from one array per channel.
   * Converts at once (the arrays may be reused when this returns); writes each full ~1 MiB chunk.
   * The promise settles when the writes queued so far are done (await it for back-pressure) and
   * rejects if any write failed. Always handle it: an ignored rejection crashes Node.
   */
  append(channels: readonly Float32Array[], frames: number = channels[0]?.length ?? 0): Promise<void> {
    const bad = this.checkUsable() ?? this.checkInput(channels, frames);
    if (bad) return Promise.reject(bad);
    const blockAlign = this.layout.blockAlign;
    let start = 0;
    while (start < frames) {
      const room = (this.chunkCapacity - this.fillBytes) / blockAlign;
      const n = Math.min(room, frames - start);
      this.encode(this.fill, this.fillBytes, channels, start, n);
      this.fillBytes += n * blockAlign;
      start += n;
      if (this.fillBytes === this.chunkCapacity) this.queueFill();
    }
    return this.settled();
  }

  /**
   * Write everything appended so far, fdatasync it, then update the header sizes (RIFF, data, fact or
   * ds64) and fdatasync again. After it resolves, a killed process leaves a valid file of at least
   * `frames` frames. Cost: two fdatasyncs; call it about once a second while recording.
   */
  sync(): Promise<WavSyncInfo> {
    const bad = this.checkUsable();
    if (bad) return Promise.reject(bad);
    this.queueFill();
    const dataBytes = this.queuedBytes;
    this.enqueue(() => this.commit(dataBytes));
    return this.settled().then(() => this.synced);
  }

  /** Same as `sync()`. */
  flush(): Promise<WavSyncInfo> {
    return this.sync();
  }

  /**
   * Final sync (sizes, pad byte if the data length is odd, RF64 if needed), then close the file.
   * Resolves with the frames in the file. Idempotent. After a failure it still closes the handle
   * and rejects with the failure; the file is valid up to the last successful sync.
   */
  close(): Promise<number> {
    if (this.closing) return this.closing;
    if (this.failure === null) {
      this.queueFill();
      const dataBytes = this.queuedBytes;
      this.enqueue(() => this.commit(dataBytes));
    }
    this.closing = this.tail.then(async () => {
      try {
        await this.fh.close();
      } catch (err) {
        this.failure ??= this.writeError('close', err);
      }
      if (this.failure) throw this.failure;
      trace('closed %s: %d frames%s', this.path, this.synced.frames, this.rf64 ? ' (RF64)' : '');
      return this.synced.frames;
    });
    return this.closing;
  }

  private checkUsable(): WavWriterError | null {
    if (this.closing) {
      return new WavWriterError('WAV_CLOSED', this.path, `${JSON.stringify(this.path)} is already closed`);
    }
    return this.failure;
  }

  private checkInput(channels: readonly Float32Array[], frames: number): WavWriterError | null {
    const nch = this.layout.channels;
    let problem: string | null = null;
    if (!Array.isArray(channels) || channels.length !== nch) {
      problem = `expected ${nch} channel array(s), got ${Array.isArray(channels) ? channels.length : typeof channels}`;
    } else if (!Number.isInteger(frames) || frames < 0) {
      problem = `frames must be a non-negative integer, got ${frames}`;
    } else {
      for (let c = 0; c < nch; c++) {
        const a = channels[c];
        if (!(a instanceof Float32Array) || a.length < frames) {
          problem = `channel ${c} must be a Float32Array of at least ${frames} frames`;
          break;
        }
      }
    }
    return problem === null
      ? null
      : new WavWriterError('WAV_BAD_INPUT', this.path, `append to ${JSON.stringify(this.path)}: ${problem}`);
  }

  /** Hand the fill buffer (if not empty) to the write queue and start a fresh one. */
  private queueFill(): void {
    const bytes = this.fillBytes;
    if (bytes === 0) return;
    const chunk = this.fill;
    const position = this.layout.headerBytes + this.queuedBytes;
    this.queuedBytes += bytes;
    // Grows the pool only while earlier writes are still in flight (a caller not awaiting append).
    this.fill = this.spare.pop() ?? newChunk(this.chunkCapacity);
    this.fillBytes = 0;
    this.enqueue(async () => {
      await this.writeFully(chunk.buf, bytes, position);
      this.spare.push(chunk);
    });
  }

  private enqueue(op: () => Promise<void>): void {
    this.tail = this.tail.then(async () => {
      if (this.failure) return;
      try {
        await op();
      } catch (err) {
        this.failure = err instanceof WavWriterError ? err : this.writeError('write', err);
        trace('failed %s: %s', this.path, this.failure.message);
      }
    });
  }

  private settled(): Promise<void> {
    return this.tail.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  private async writeFully(buf: Uint8Array, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.fh.write(buf, done, length - done, position + done);
      if (bytesWritten <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
      done += bytesWritten;
    }
  }

  /** Make the header cover `dataBytes`: audio durable first, then the header, then durable again. */
  private async commit(dataBytes: number): Promise<void> {
    const layout = this.layout;
    if (dataBytes === this.synced.dataBytes && dataBytes !== 0) return;
    if (dataBytes & 1) {
      // Odd data (int24, odd channels × frames): RIFF wants a pad byte. The next append overwrites it.
      await this.writeFully(this.pad, 1, layout.headerBytes + dataBytes);
    }
    if (dataBytes > 0 && this.durable) await this.fh.datasync();
    const rf64 = this.rf64 || dataBytes > this.rf64ThresholdBytes || riffSizeFor(layout, dataBytes) > U32_MAX;
    writeWavHeader(layout, this.header, dataBytes, rf64);
    await this.writeFully(this.header, layout.headerBytes, 0);
    if (this.durable) await this.fh.datasync();
    if (rf64 && !this.rf64) trace('%s became RF64 at %d data bytes', this.path, dataBytes);
    this.rf64 = rf64;
    this.synced = { frames: Math.floor(dataBytes / layout.blockAlign), dataBytes, rf64 };
  }

  private writeError(what: string, err: unknown): WavWriterError {
    return new WavWriterError(
      'WAV_WRITE_FAILED',
      this.path,
      `cannot ${what} ${JSON.stringify(this.path)}: ${describe(err)} — the file stays a valid WAV up to the ` +
        `last sync (${this.synced.frames} frames); free disk space or fix permissions and record to a new file`,
      err,
    );
  }
}

/** Create a streaming WAV file at `target`; see `WavWriter`. */
export function openWavWriter(target: WavTarget, options: WavWriterOptions): Promise<WavWriter> {
  return WavWriter.open(target, options);
}

/**
 * A lock-free single-producer/single-consumer ring of audio frames on a SharedArrayBuffer: the audio
 * thread writes blocks of N-channel frames (never blocking; a full ring drops the block and counts
 * the dropped frames), the control thread reads them (to disk, meters, tests).
 *
 * Header (Int32): 0 write index, 1 read index (both in frames, wrapping at 2^32), 2 dropped frames,
 * 3 the frame index (low 32 bits) of the last write's first sample is not kept: callers who need
 * timing write it through `userWords`. Words 4..15 are free for the two sides' own flags.
 */
import type { TapWriter } from '../../plugin-sdk/types.ts';

const HEADER_WORDS = 16;
const WRITE = 0;
const READ = 1;
const DROPPED = 2;
export const TAP_USER_WORD_BASE = 4;

export class TapRing implements TapWriter {
  readonly buffer: SharedArrayBuffer;
  readonly channels: number;
  readonly capacity: number;
  readonly header: Int32Array;
  private readonly data: Float32Array;
  private readonly mask: number;

  constructor(channelsOrBuffer: number | SharedArrayBuffer, capacityFrames = 1 << 16, channels?: number) {
    if (typeof channelsOrBuffer === 'number') {
      if (capacityFrames < 2 || (capacityFrames & (capacityFrames - 1)) !== 0) throw new RangeError(`tap capacity must be a power of two, got ${capacityFrames}`);
      this.channels = channelsOrBuffer;
      this.buffer = new SharedArrayBuffer(HEADER_WORDS * 4 + capacityFrames * channelsOrBuffer * 4);
    } else {
      this.buffer = channelsOrBuffer;
      this.channels = channels ?? 2;
    }
    this.header = new Int32Array(this.buffer, 0, HEADER_WORDS);
    this.data = new Float32Array(this.buffer, HEADER_WORDS * 4);
    this.capacity = this.data.length / this.channels;
    this.mask = this.capacity - 1;
  }

  /** Frames the writer can add now. */
  get space(): number {
    return this.capacity - this.available;
  }

  /** Frames waiting to be read. */
  get available(): number {
    return (Atomics.load(this.header, WRITE) - Atomics.load(this.header, READ)) >>> 0;
  }

  get dropped(): number {
    return Atomics.load(this.header, DROPPED) >>> 0;
  }

  /** Audio thread: append frames [start, end) of `channels` (one array per channel). All or nothing. */
  write(channels: readonly Float32Array[], start: number, end: number): boolean {
    const n = end - start;
    if (n <= 0) return true;
    const header = this.header;
    const w = Atomics.load(header, WRITE);
    const used = (w - Atomics.load(header, READ)) >>> 0;
    const full = this.capacity - used < n;
    // Counted on every call (0 while there is room): code first run when the ring first fills (no
    // reader) would throw away V8's optimised code of the whole audio path, seconds into a render.
    Atomics.add(header, DROPPED, full ? n : 0);
    if (full) return false;
    const ch = this.channels;
    const data = this.data;
    const mask = this.mask;
    for (let c = 0; c < ch; c++) {
      const src = channels[c];
      let at = w;
      for (let i = start; i < end; i++) {
        data[(at & mask) * ch + c] = src[i];
        at++;
      }
    }
    Atomics.store(header, WRITE, (w + n) | 0);
    return true;
  }

  /** Control thread: move up to `maxFrames` frames into `out` (one array per channel). Returns frames read. */
  read(out: Float32Array[], maxFrames = out[0].length): number {
    const r = Atomics.load(this.header, READ);
    const n = Math.min(maxFrames, (Atomics.load(this.header, WRITE) - r) >>> 0);
    const ch = this.channels;
    const data = this.data;
    const mask = this.mask;
    for (let c = 0; c < ch; c++) {
      const dst = out[c];
      for (let i = 0; i < n; i++) dst[i] = data[((r + i) & mask) * ch + c];
    }
    Atomics.store(this.header, READ, (r + n) | 0);
    return n;
  }
}

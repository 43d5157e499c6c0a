/**
 * Rendered blocks on their way to the sound card: a lock-free single-producer/single-consumer ring
 * of stereo blocks on shared memory. The audio thread writes whole blocks; the device thread
 * (kernel/audio/backends/device-output-main.ts) reads them interleaved, as PortAudio wants them. The two
 * counters (blocks written, blocks read) are also what each side waits on with `Atomics.wait`.
 */
const WRITTEN = 0;
const READ = 1;

export class OutputRing {
  readonly buffer: SharedArrayBuffer;
  /** [blocks written, blocks read]; wrap at 2^31 blocks (four months at 256 frames). */
  readonly counters: Int32Array;
  private readonly data: Float32Array;

  constructor(
    readonly blockSize: number,
    readonly slots: number,
    buffer?: SharedArrayBuffer,
  ) {
    this.buffer = buffer ?? new SharedArrayBuffer(8 + slots * blockSize * 2 * 4);
    this.counters = new Int32Array(this.buffer, 0, 2);
    this.data = new Float32Array(this.buffer, 8, slots * blockSize * 2);
  }

  /** Blocks written and not yet read. */
  get queued(): number {
    return (Atomics.load(this.counters, WRITTEN) - Atomics.load(this.counters, READ)) | 0;
  }

  get written(): number {
    return Atomics.load(this.counters, WRITTEN);
  }

  get read(): number {
    return Atomics.load(this.counters, READ);
  }

  /** Audio thread: one block of `blockSize` frames; false (nothing written) when the ring is full. */
  write(l: Float32Array, r: Float32Array): boolean {
    const w = Atomics.load(this.counters, WRITTEN);
    if (((w - Atomics.load(this.counters, READ)) | 0) >= this.slots) return false;
    const n = this.blockSize;
    const data = this.data;
    let at = (w % this.slots) * n * 2;
    for (let i = 0; i < n; i++) {
      data[at++] = l[i];
      data[at++] = r[i];
    }
    Atomics.store(this.counters, WRITTEN, (w + 1) | 0);
    // The device thread may be waiting for this block.
    Atomics.notify(this.counters, WRITTEN);
    return true;
  }

  /** Device thread: the next block, interleaved, into `out` (2 × blockSize); false when none is ready. */
  readInto(out: Float32Array): boolean {
    const r = Atomics.load(this.counters, READ);
    if (Atomics.load(this.counters, WRITTEN) === r) return false;
    const n2 = this.blockSize * 2;
    out.set(this.data.subarray((r % this.slots) * n2, (r % this.slots) * n2 + n2));
    Atomics.store(this.counters, READ, (r + 1) | 0);
    return true;
  }
}

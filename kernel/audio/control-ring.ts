/**
 * Lock-free single-producer/single-consumer ring of fixed-size event records on a SharedArrayBuffer.
 *
 * One thread pushes, one thread pops; neither ever blocks or allocates. A record is four float64s:
 * kind, frame (absolute sample frame, or -1 for "as soon as possible"), target (a parameter or gate
 * index) and value. The write index is published with `Atomics.store` after the record is written,
 * so the consumer never sees a half-written record.
 */

const HEAD = 0;
const TAIL = 1;
const DROPPED = 2;
const RECORD = 4;

export interface RingRecord {
  kind: number;
  frame: number;
  target: number;
  value: number;
}

export class ControlRing {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  private readonly indices: Uint32Array;
  private readonly data: Float64Array;
  private readonly mask: number;

  /** Wrap an existing buffer (the other thread's side) or allocate one for `capacity` records (a power of two). */
  constructor(capacityOrBuffer: number | SharedArrayBuffer) {
    if (typeof capacityOrBuffer === 'number') {
      const capacity = capacityOrBuffer;
      if (capacity < 2 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring capacity must be a power of two >= 2, got ${capacity}`);
      this.buffer = new SharedArrayBuffer(16 + capacity * RECORD * 8);
    } else {
      this.buffer = capacityOrBuffer;
    }
    this.indices = new Uint32Array(this.buffer, 0, 4);
    this.data = new Float64Array(this.buffer, 16);
    this.capacity = this.data.length / RECORD;
    this.mask = this.capacity - 1;
  }

  /** Producer side. Returns false (and counts a drop) when the ring is full. */
  push(kind: number, frame: number, target: number, value: number): boolean {
    const tail = Atomics.load(this.indices, TAIL);
    const head = Atomics.load(this.indices, HEAD);
    if (((tail - head) >>> 0) >= this.capacity) {
      Atomics.add(this.indices, DROPPED, 1);
      return false;
    }
    const at = (tail & this.mask) * RECORD;
    const data = this.data;
    data[at] = kind;
    data[at + 1] = frame;
    data[at + 2] = target;
    data[at + 3] = value;
    Atomics.store(this.indices, TAIL, (tail + 1) >>> 0);
    return true;
  }

  /** Consumer side. Copies the oldest record into `out` and returns true, or returns false when empty. */
  pop(out: RingRecord): boolean {
    const head = Atomics.load(this.indices, HEAD);
    if (head === Atomics.load(this.indices, TAIL)) return false;
    const at = (head & this.mask) * RECORD;
    const data = this.data;
    out.kind = data[at];
    out.frame = data[at + 1];
    out.target = data[at + 2];
    out.value = data[at + 3];
    Atomics.store(this.indices, HEAD, (head + 1) >>> 0);
    return true;
  }

  /** Records waiting (either side may ask; the answer may be stale by the time it is used). */
  get size(): number {
    return (Atomics.load(this.indices, TAIL) - Atomics.load(this.indices, HEAD)) >>> 0;
  }

  /** Pushes refused because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.indices, DROPPED);
  }
}

import { EventKind } from './event-kinds.ts';
import type { SnapshotQueue } from './audio-snapshot.ts';

/**
 * The audio thread's queue of timed events, kept sorted by frame; at the same frame parameter
 * changes come before gates (a note starts with the values sent with it), otherwise arrival order.
 * Preallocated; inserting is O(distance from the end), which is O(1) for events that arrive in
 * time order, the common case. A full queue refuses the event and counts it.
 *
 * Events for later blocks go in with `insertLater`, which leaves `reserve` places free: however many
 * are scheduled ahead, events due in the block being rendered (immediate messages, the sequencer's
 * notes, LFO steps) always find room. The control thread refuses timed messages before that point
 * (it reads `limit` and the queue's length from the shared state), so the refusal here is a backstop.
 */
const GATE = EventKind.Gate;

export class EventQueue {
  private readonly frames: Float64Array;
  private readonly kinds: Int32Array;
  private readonly targets: Int32Array;
  private readonly values: Float64Array;
  private head = 0;
  private count = 0;
  dropped = 0;
  /** How many events `insertLater` fills the queue to. */
  readonly limit: number;

  constructor(
    readonly capacity = 8192,
    readonly reserve = Math.min(1024, capacity >> 2),
  ) {
    this.limit = capacity - reserve;
    this.frames = new Float64Array(capacity);
    this.kinds = new Int32Array(capacity);
    this.targets = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  insert(frame: number, kind: number, target: number, value: number): boolean {
    if (this.count === this.capacity) {
      this.dropped++;
      return false;
    }
    let i = this.count;
    // Shift later events one place up until the slot for `frame` is found.
    const late = kind === GATE ? 1 : 0;
    while (i > 0) {
      const prev = this.wrap(this.head + i - 1);
      const f = this.frames[prev];
      if (f < frame || (f === frame && (this.kinds[prev] === GATE ? 1 : 0) <= late)) break;
      const at = this.wrap(this.head + i);
      this.frames[at] = this.frames[prev];
      this.kinds[at] = this.kinds[prev];
      this.targets[at] = this.targets[prev];
      this.values[at] = this.values[prev];
      i--;
    }
    const at = this.wrap(this.head + i);
    this.frames[at] = frame;
    this.kinds[at] = kind;
    this.targets[at] = target;
    this.values[at] = value;
    this.count++;
    return true;
  }

  /** A position in [0, 2·capacity) as an index of the ring (a compare instead of a division: inserting is on the audio path). */
  private wrap(position: number): number {
    // No branch: one first taken when the ring first wraps (seconds into a render) would throw away
    // V8's optimised code of the audio path.
    const c = this.capacity;
    return position - (position < c ? 0 : c);
  }

  /** An event for a later block: refused (and counted) once `limit` events are queued. */
  insertLater(frame: number, kind: number, target: number, value: number): boolean {
    if (this.count >= this.limit) {
      this.dropped++;
      return false;
    }
    return this.insert(frame, kind, target, value);
  }

  /** Frame of the earliest event, or +Infinity when empty. */
  peekFrame(): number {
    return this.count === 0 ? Infinity : this.frames[this.head];
  }

  peekKind(): number {
    return this.kinds[this.head];
  }

  peekTarget(): number {
    return this.targets[this.head];
  }

  peekValue(): number {
    return this.values[this.head];
  }

  shift(): void {
    if (this.count === 0) return;
    this.head = this.wrap(this.head + 1);
    this.count--;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  /** Between blocks: every queued event, earliest first (allocates). */
  capture(): SnapshotQueue {
    const n = this.count;
    const q: SnapshotQueue = { frames: new Float64Array(n), kinds: new Int32Array(n), targets: new Int32Array(n), values: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      const at = (this.head + i) % this.capacity;
      q.frames[i] = this.frames[at];
      q.kinds[i] = this.kinds[at];
      q.targets[i] = this.targets[at];
      q.values[i] = this.values[at];
    }
    return q;
  }

  /** Between blocks: exactly `capture()`'s events in its order (what does not fit is counted as dropped). */
  restore(q: SnapshotQueue): void {
    this.clear();
    const n = Math.min(q.frames.length, this.capacity);
    this.frames.set(q.frames.subarray(0, n));
    this.kinds.set(q.kinds.subarray(0, n));
    this.targets.set(q.targets.subarray(0, n));
    this.values.set(q.values.subarray(0, n));
    this.count = n;
    this.dropped += q.frames.length - n;
  }

  /** Drop every event timed after `frame` (the queue is sorted: the earlier ones stay). */
  clearAfter(frame: number): void {
    let keep = 0;
    while (keep < this.count && this.frames[this.wrap(this.head + keep)] <= frame) keep++;
    this.count = keep;
  }
}

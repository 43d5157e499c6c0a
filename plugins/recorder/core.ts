/**
 * The recorder's audio-side state machine and copying (no DSP): each block it copies the chosen
 * buses into the tap ring, sample-exact at block boundaries, with an optional linear fade.
 *
 * | method     | thread / when                 | does                                                      |
 * | ---------- | ----------------------------- | --------------------------------------------------------- |
 * | constructor| audio thread, in create       | keeps the ring, the source arrays, preallocates scratch    |
 * | start      | between blocks (command)      | ARMED; copying begins at the next `beginBlock`             |
 * | stop       | between blocks (command)      | STOPPED now, or STOPPING while a fade-out runs             |
 * | beginBlock | block start                   | ARMED → RECORDING: first frame = this block's first frame  |
 * | process    | inside a block, [start, end)  | copies (clips master like the output, applies fades)       |
 *
 * Real-time rules hold in beginBlock/process: no allocation, nothing thrown; header words are
 * written with Atomics so the control thread reads them without locks.
 */
import type { TapWriter } from 'plugin-sdk';
import { RecState, W_CHANNELS, W_DROPPED, W_END_POS, W_FADE, W_FIRST_HI, W_FIRST_LO, W_FRAMES_HI, W_FRAMES_LO, W_RING_WRITE, W_SESSION, W_START_POS, W_STATE, W_TAP } from './protocol.ts';

const TWO_32 = 4294967296;

/** Hard clip to [-1, 1] with NaN → 0, exactly as the kernel's output stage does (what is heard). */
export function clipSample(a: number): number {
  if (!(a > -1)) return a === a ? -1 : 0;
  return a > 1 ? 1 : a;
}

export class RecorderCore {
  private state: number = RecState.Idle;
  /** Frames put into the ring this session, and lost to a full ring. */
  private frames = 0;
  private dropped = 0;
  /** Frames of the fade-in already done (fade-in runs while < fadeFrames). */
  private fadeInPos = 0;
  /** Frames of the fade-out left (only in STOPPING). */
  private fadeOutLeft = 0;
  private readonly header: Int32Array;
  private readonly nch: number;
  /** Scratch per channel (maxBlock frames). */
  private readonly scratch: Float32Array[];
  /** What is written when no fade runs: scratch for clipped channels, the bus arrays for the rest. */
  private readonly direct: Float32Array[];

  /**
   * @param sources one array per ring channel (bus buffers; stable for the plugin's life)
   * @param clipChannels the first `clipChannels` sources are clipped like the output (the master)
   * @param fadeFrames fade-in and fade-out length (0: none)
   */
  constructor(
    private readonly tap: TapWriter,
    private readonly sources: readonly Float32Array[],
    private readonly clipChannels: number,
    private readonly fadeFrames: number,
    maxBlock: number,
    tapKind: number,
  ) {
    this.header = tap.header;
    this.nch = sources.length;
    this.scratch = [];
    this.direct = [];
    for (let c = 0; c < this.nch; c++) {
      const s = new Float32Array(maxBlock);
      this.scratch.push(s);
      this.direct.push(c < clipChannels ? s : sources[c]);
    }
    Atomics.store(this.header, W_CHANNELS, this.nch);
    Atomics.store(this.header, W_TAP, tapKind);
    Atomics.store(this.header, W_FADE, fadeFrames);
    Atomics.store(this.header, W_STATE, RecState.Idle);
  }

  get currentState(): number {
    return this.state;
  }

  /** Arm for session `session`; false if a session is still running (the control side stops first). */
  start(session: number): boolean {
    if (this.state === RecState.Recording || this.state === RecState.Stopping) return false;
    this.frames = 0;
    this.dropped = 0;
    this.fadeInPos = 0;
    this.fadeOutLeft = 0;
    const h = this.header;
    Atomics.store(h, W_SESSION, session | 0);
    Atomics.store(h, W_FRAMES_LO, 0);
    Atomics.store(h, W_FRAMES_HI, 0);
    Atomics.store(h, W_DROPPED, 0);
    Atomics.store(h, W_END_POS, 0);
    this.setState(RecState.Armed);
    return true;
  }

  /** End the session: now (the last block copied is the last one in the file) or after the fade-out. */
  stop(): void {
    const s = this.state;
    if (s === RecState.Recording) {
      if (this.fadeFrames > 0) {
        this.fadeOutLeft = this.fadeFrames;
        this.setState(RecState.Stopping);
      } else this.finish();
    } else if (s === RecState.Armed) {
      // Never started: an empty session whose first frame would have been the next block.
      const w = Atomics.load(this.header, W_RING_WRITE);
      Atomics.store(this.header, W_START_POS, w);
      this.finish();
    }
  }

  beginBlock(blockStart: number): void {
    if (this.state !== RecState.Armed) return;
    const h = this.header;
    Atomics.store(h, W_FIRST_LO, blockStart % TWO_32 | 0);
    Atomics.store(h, W_FIRST_HI, Math.floor(blockStart / TWO_32) | 0);
    Atomics.store(h, W_START_POS, Atomics.load(h, W_RING_WRITE));
    this.setState(RecState.Recording);
  }

  process(start: number, end: number): void {
    const st = this.state;
    if (st !== RecState.Recording && st !== RecState.Stopping) return;
    let stop = end;
    if (st === RecState.Stopping && this.fadeOutLeft < end - start) stop = start + this.fadeOutLeft;
    const n = stop - start;
    if (n > 0) {
      const fading = this.fadeInPos < this.fadeFrames || st === RecState.Stopping;
      const ok = fading ? this.writeFaded(start, stop) : this.writeDirect(start, stop);
      if (ok) this.frames += n;
      else this.dropped += n;
      const h = this.header;
      Atomics.store(h, W_FRAMES_LO, this.frames % TWO_32 | 0);
      Atomics.store(h, W_FRAMES_HI, Math.floor(this.frames / TWO_32) | 0);
      Atomics.store(h, W_DROPPED, this.dropped | 0);
      if (this.fadeInPos < this.fadeFrames) this.fadeInPos = Math.min(this.fadeFrames, this.fadeInPos + n);
    }
    if (st === RecState.Stopping) {
      this.fadeOutLeft -= n;
      if (this.fadeOutLeft <= 0) this.finish();
    }
  }

  private writeDirect(start: number, end: number): boolean {
    const scratch = this.scratch;
    const sources = this.sources;
    for (let c = 0; c < this.clipChannels; c++) {
      const src = sources[c];
      const dst = scratch[c];
      for (let i = start; i < end; i++) dst[i] = clipSample(src[i]);
    }
    return this.tap.write(this.direct, start, end);
  }

  /** Linear fades: fade-in gain k/F for the session's k-th frame, fade-out (r−1)/F with r frames left. */
  private writeFaded(start: number, end: number): boolean {
    const f = this.fadeFrames;
    const inPos = this.fadeInPos;
    const outLeft = this.state === RecState.Stopping ? this.fadeOutLeft : -1;
    const scratch = this.scratch;
    const sources = this.sources;
    const clip = this.clipChannels;
    for (let c = 0; c < this.nch; c++) {
      const src = sources[c];
      const dst = scratch[c];
      for (let i = start; i < end; i++) {
        const k = i - start;
        let g = inPos + k < f ? (inPos + k) / f : 1;
        if (outLeft >= 0) g *= (outLeft - k - 1) / f;
        const x = c < clip ? clipSample(src[i]) : src[i];
        dst[i] = x * g;
      }
    }
    return this.tap.write(scratch, start, end);
  }

  private finish(): void {
    Atomics.store(this.header, W_END_POS, Atomics.load(this.header, W_RING_WRITE));
    this.setState(RecState.Stopped);
  }

  private setState(s: number): void {
    this.state = s;
    Atomics.store(this.header, W_STATE, s);
  }
}

/**
 * The audio watchdog (control thread): notices when one plugin call on the audio thread runs far
 * longer than any real one does — an endless loop in `process`, `create` or `setState` — and says which
 * plugin it is. The audio thread writes, before every plugin call, the plugin's slot id and a call
 * counter (Slot.RunningSlot, Slot.CallSeq); the same call still running after `blockMs` (a call inside
 * a block) or `callMs` (between blocks: create, state, commands) is a stall.
 *
 * A thread that is not running at all (the machine overloaded, the VM's CPU taken away) is not a hang:
 * where the audio thread's CPU time can be read (/proc/self/task/<tid>/schedstat), a stall counts only
 * if the thread spent most of it on the CPU, or once it lasts ten times the limit.
 */
import { readFileSync } from 'node:fs';
import { Slot, type SharedState } from '../audio/shared-state.ts';

export interface Stall {
  /** The slot id of the plugin whose call did not return (0: none known). */
  slotId: number;
  betweenBlocks: boolean;
  /** How long the call had been running when it was declared hung (ms, as seen from here). */
  stalledMs: number;
}

export interface WatchdogLimits {
  /** A call inside a block (process, beginBlock, gate) running this long is a hang. */
  blockMs: number;
  /** A call between blocks (create, setState, a command) running this long is a hang. */
  callMs: number;
}

const POLL_MS = 10;
/** No new frame for this long: the audio thread is not rendering (status says so). */
const SILENT_MS = 250;
/** Share of the stall the thread must have been on the CPU for it to count as a loop. */
const MIN_CPU_SHARE = 0.5;
/** Not on the CPU: a stall still counts once it is this many times the limit. */
const STARVED_FACTOR = 10;

/** CPU time (ms) the task `tid` of this process has run, or null where it cannot be read. */
export function threadCpuMs(tid: number): number | null {
  if (tid <= 0) return null;
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

export class AudioWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private seq = -1;
  private slot = 0;
  private since = 0;
  /** CPU time and wall time when the current call was first suspected (half the limit). */
  private cpuMark: number | null = null;
  private wallMark = 0;
  private fired = false;
  private frames = -1;
  private framesMovedAt = 0;
  /** Until then every call gets the between-blocks limit: a fresh thread's first blocks run cold code. */
  private graceUntil = 0;

  constructor(
    private readonly shared: SharedState,
    private readonly limits: WatchdogLimits,
    private readonly onStall: (stall: Stall) => void,
    private readonly cpuMs: (tid: number) => number | null = threadCpuMs,
  ) {}

  start(graceMs = 0): void {
    this.graceUntil = performance.now() + graceMs;
    this.timer = setInterval(() => this.check(performance.now()), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Watch afresh (after the audio thread was replaced), lenient for `graceMs`. */
  reset(graceMs = 0): void {
    this.graceUntil = performance.now() + graceMs;
    this.seq = -1;
    this.slot = 0;
    this.fired = false;
    this.cpuMark = null;
  }

  /** How long the call seen running now has been running (0: none). */
  currentCallMs(now: number): number {
    return this.slot === 0 || this.shared.values[Slot.RunningSlot] === 0 ? 0 : now - this.since;
  }

  /** Frames have advanced within the last `SILENT_MS` (whatever the limits). */
  rendering(now: number): boolean {
    return now - this.framesMovedAt < SILENT_MS;
  }

  check(now: number): void {
    const v = this.shared.values;
    if (v[Slot.FramesRendered] !== this.frames) {
      this.frames = v[Slot.FramesRendered];
      this.framesMovedAt = now;
    }
    const slot = v[Slot.RunningSlot];
    const seq = v[Slot.CallSeq];
    if (slot === 0 || seq !== this.seq || slot !== this.slot) {
      this.seq = seq;
      this.slot = slot;
      this.since = now;
      this.cpuMark = null;
      return;
    }
    if (this.fired) return;
    const stalled = now - this.since;
    const between = v[Slot.RunningBetweenBlocks] === 1;
    const limit = between || now < this.graceUntil ? this.limits.callMs : this.limits.blockMs;
    const tid = v[Slot.AudioTid];
    if (stalled >= limit / 2 && this.cpuMark === null) {
      this.cpuMark = this.cpuMs(tid);
      this.wallMark = now;
    }
    if (stalled < limit) return;
    if (this.cpuMark !== null && stalled < STARVED_FACTOR * limit) {
      const cpu = this.cpuMs(tid);
      if (cpu !== null && now > this.wallMark && cpu - this.cpuMark < MIN_CPU_SHARE * (now - this.wallMark)) return;
    }
    this.fired = true;
    this.onStall({ slotId: slot, betweenBlocks: between, stalledMs: stalled });
  }
}

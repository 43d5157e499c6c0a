/**
 * Parameter and gate changes from the control thread: clamp, remember the base value, and send the
 * change to the audio thread through the lock-free control ring (never by message).
 *
 * A timed change (a bundle's timetag, a score's frame) is refused with a coded error — the router
 * answers the sender `/error <address> <code> <message>` — and nothing is sent, when it is
 * - further ahead than `scheduleHorizonSeconds` (config `engine.scheduleHorizonSeconds`):
 *   EVENT_TOO_FAR_AHEAD;
 * - beyond what the audio thread's queue may hold ahead (`Slot.QueueLimit`), counting the events
 *   queued there (`Slot.QueueLength`) and every record still in the ring: EVENT_QUEUE_FULL.
 * Changes for now never need a place in the queue ahead (the audio thread keeps room for them), so
 * however much is scheduled, gates and parameter changes still play.
 */
import type { AudioHost } from '../host/audio-host.ts';
import { ErrorCode } from '../base/errors.ts';
import { EventKind } from '../audio/event-kinds.ts';
import { RouteError } from '../osc/osc-router.ts';
import { SchemaRegistry } from './schema-registry.ts';
import { Slot } from '../audio/shared-state.ts';


export class ParamControl {
  clampedCount = 0;
  gatesSent = 0;
  /** Gates last opened from this side and not closed since (a fresh audio thread opens them again). */
  readonly openGates = new Set<number>();
  /** Timed changes refused (too far ahead or no room ahead). */
  refusedCount = 0;
  /** Stopped by `/engine/stop` (silent, gates ignored) until `/engine/start`; the control side's copy for status. */
  stopped = false;
  /** How far ahead a timed change may be (config `engine.scheduleHorizonSeconds`). */
  scheduleHorizonSeconds = 60;
  private wakePending = false;
  /** Told of every base value set (engine views: web pages, OSCQuery LISTEN). */
  readonly listeners = new Set<(index: number, value: number) => void>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly audio: AudioHost,
    private readonly wake: () => void = () => {},
  ) {}

  /** Set parameter `index` at `frame` (-1: next block). Returns the value actually applied. */
  set(index: number, value: number, frame = -1): { value: number; clamped: boolean } {
    const entry = this.registry.paramAt(index);
    if (!entry) throw new Error(`no parameter with index ${index}`);
    this.checkTimed(frame);
    const result = SchemaRegistry.clamp(entry.spec, value);
    if (result.clamped) this.clampedCount++;
    this.registry.values[index] = result.value;
    this.push(EventKind.SetParam, frame, index, result.value);
    for (const fn of this.listeners) fn(index, result.value);
    return result;
  }

  gate(index: number, value: number, frame = -1): void {
    this.checkTimed(frame);
    this.gatesSent++;
    if (value > 0) this.openGates.add(index);
    else this.openGates.delete(index);
    this.push(EventKind.Gate, frame, index, value);
  }

  /** `/engine/stop`: the audio thread drops every event scheduled after the block that takes this (in ring order). */
  clearScheduled(): void {
    this.push(EventKind.ClearScheduled, -1, 0, 0);
  }

  /** `/engine/stop` (true) and `/engine/start` (false): the output fades out (or in) at the next block; while stopped gates do not open. */
  setStopped(stopped: boolean): void {
    this.stopped = stopped;
    this.push(EventKind.OutputStopped, -1, 0, stopped ? 1 : 0);
  }

  /** Throws EVENT_TOO_FAR_AHEAD or EVENT_QUEUE_FULL for a timed change that must not be queued. */
  private checkTimed(frame: number): void {
    if (!(frame >= 0)) return;
    const v = this.audio.shared.values;
    const sr = this.audio.sampleRate;
    const ahead = (frame - v[Slot.FramesRendered]) / sr;
    if (ahead > this.scheduleHorizonSeconds) {
      this.refusedCount++;
      throw new RouteError(
        ErrorCode.EVENT_TOO_FAR_AHEAD,
        `timed ${ahead.toFixed(1)} s ahead; the engine schedules at most ${this.scheduleHorizonSeconds} s ahead (engine.scheduleHorizonSeconds). Send it closer to its time`,
      );
    }
    const limit = v[Slot.QueueLimit];
    // Due in the next block: it takes none of the room ahead.
    if (limit <= 0 || frame < v[Slot.FramesRendered] + this.audio.blockSize) return;
    // The ring's size first, then the queue's length: a record the audio thread takes in between is counted at least once.
    const inFlight = this.audio.ring.size;
    const queued = v[Slot.QueueLength];
    if (queued + inFlight >= limit) {
      this.refusedCount++;
      throw new RouteError(
        ErrorCode.EVENT_QUEUE_FULL,
        `${queued + inFlight} events are already scheduled ahead (at most ${limit}); this one was dropped. Send timed messages closer to their time, or /engine/stop to clear what is scheduled`,
      );
    }
  }

  private push(kind: number, frame: number, target: number, value: number): void {
    if (!this.audio.ring.push(kind, frame, target, value)) throw new Error('the control queue is full; the audio thread is not keeping up');
    // One wake for everything pushed in this turn (a pattern load sets hundreds of parameters).
    if (!this.wakePending) {
      this.wakePending = true;
      queueMicrotask(() => {
        this.wakePending = false;
        this.wake();
      });
    }
  }
}

/**
 * Parameter and gate changes from the control thread: clamp, remember the base value, and send the
 * change to the audio thread through the lock-free control ring (never by message).
 */
import type { AudioHost } from './audio-host.ts';
import { EventKind } from './event-kinds.ts';
import { SchemaRegistry } from './schema-registry.ts';

export class ParamControl {
  clampedCount = 0;
  gatesSent = 0;
  /** Gates last opened from this side and not closed since (a fresh audio thread opens them again). */
  readonly openGates = new Set<number>();
  private wakePending = false;

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly audio: AudioHost,
    private readonly wake: () => void = () => {},
  ) {}

  /** Set parameter `index` at `frame` (-1: next block). Returns the value actually applied. */
  set(index: number, value: number, frame = -1): { value: number; clamped: boolean } {
    const entry = this.registry.paramAt(index);
    if (!entry) throw new Error(`no parameter with index ${index}`);
    const result = SchemaRegistry.clamp(entry.spec, value);
    if (result.clamped) this.clampedCount++;
    this.registry.values[index] = result.value;
    this.push(EventKind.SetParam, frame, index, result.value);
    return result;
  }

  gate(index: number, value: number, frame = -1): void {
    this.gatesSent++;
    if (value > 0) this.openGates.add(index);
    else this.openGates.delete(index);
    this.push(EventKind.Gate, frame, index, value);
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

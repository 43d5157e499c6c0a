/**
 * An exact snapshot of the audio graph at one block boundary (taken and restored on the audio thread,
 * between blocks): what the next block depends on, so that an engine restored from it renders what the
 * live one rendered, sample for sample. Plain data (structured-clone safe; typed arrays in states and
 * shared values stay typed arrays). A session journal stores it; a replay starts from it.
 */
import type { ParamSpec } from '../../plugin-sdk/types.ts';
import type { SlotSpec } from './slot-spec.ts';

export const AUDIO_SNAPSHOT_VERSION = 1;

export interface SnapshotSlot {
  /** The version in the graph (its code, parameters, gates, config and shared values). */
  spec: SlotSpec;
  /** Its `getState('reload')`: DSP memories and tails included (undefined: it keeps none, or it threw). */
  state: unknown;
  bypassed: boolean;
  faults: number;
  lastError: string;
}

/** One kernel parameter as the smoother holds it: base value, modulation offset, where it is and where it is going. */
export interface SnapshotParam {
  index: number;
  spec: ParamSpec;
  base: number;
  mod: number;
  value: number;
  target: number;
  /** In the bank's list of moving parameters (a re-specced parameter may sit off its target without moving). */
  moving: boolean;
}

/** The timed event queue, earliest first (the order events of the same frame apply in). */
export interface SnapshotQueue {
  frames: Float64Array;
  kinds: Int32Array;
  targets: Int32Array;
  values: Float64Array;
}

export interface AudioSnapshot {
  v: typeof AUDIO_SNAPSHOT_VERSION;
  /** The first frame of the next block. */
  frame: number;
  /** The buses in the order they were made: made again first, so every new instance finds those the live ones had found. */
  buses: string[];
  /** In signal order. */
  slots: SnapshotSlot[];
  params: SnapshotParam[];
  queue: SnapshotQueue;
  /** Gate indices open now. */
  openGates: number[];
  outputStopped: boolean;
  outputGain: number;
}

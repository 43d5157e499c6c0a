/**
 * What the control thread hands a new audio thread (kernel/host/worker-host.ts starts it,
 * kernel/audio/audio-worker-main.ts reads it): the format and the shared memory both sides use.
 */

export interface AudioOptions {
  sampleRate: number;
  blockSize: number;
  smoothingMs: number;
  /** Reload crossfades equal-power instead of linear. */
  equalPowerFades?: boolean;
}

export interface WorkerData extends AudioOptions {
  leadBlocks: number;
  device: string | null;
  ring: SharedArrayBuffer;
  reports: SharedArrayBuffer;
  journal: SharedArrayBuffer;
  shared: SharedArrayBuffer;
  wake: SharedArrayBuffer;
  outputTap: SharedArrayBuffer;
  /** The CPU the audio thread keeps to itself (kernel/platform/cpu-affinity.ts), or null. */
  audioCpu: number | null;
  /** The device backend: the ring the device thread plays from (kernel/host/device-output.ts), else null; given at activation. */
  outputRing: SharedArrayBuffer | null;
  outputRingSlots: number;
  streamBlocks: number;
}

/**
 * A Linux PM QoS request that keeps every CPU out of idle states slower to leave than the given
 * number of microseconds, for as long as the engine runs: what tuned's latency profiles and Ardour's
 * "CPU DMA latency" setting do. The request is a 32-bit value written to /dev/cpu_dma_latency and
 * lasts while the file stays open, so the kernel drops it when the process ends, however it ends.
 *
 * Why an audio engine wants it: a sleeping audio thread is woken by a timer on a CPU that may have
 * gone idle, and leaving a deep idle state (or, in a virtual machine, a halted vCPU being scheduled
 * again by the host) can take milliseconds. Measured on this project's 2-vCPU VM with a C program
 * pacing 256-frame blocks at SCHED_RR: in 2 minutes, 20 wake-ups more than 5 ms late (5 over 10 ms)
 * when idle; 4 (none over 10 ms) while this request was held (the CPUs poll instead of halting).
 * The cost is power: idle CPUs spin. `audio.cpuDmaLatencyUs: null` leaves the system alone.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const CPU_DMA_LATENCY_DEVICE = '/dev/cpu_dma_latency';

export type CpuLatencyState = 'held' | 'unavailable' | 'denied' | 'off';

export interface CpuLatencyRequest {
  readonly state: CpuLatencyState;
  /** The value asked for (µs), or null when nothing was asked. */
  readonly requestedUs: number | null;
  /** Why it is not held (empty when held or off). */
  readonly reason: string;
  release(): void;
}

/** Asks for `us` µs (null: nothing). Never throws: without the device or the permission the engine runs as before. */
export function requestCpuLatency(us: number | null, device = CPU_DMA_LATENCY_DEVICE): CpuLatencyRequest {
  if (us === null) return { state: 'off', requestedUs: null, reason: '', release() {} };
  let fd: number;
  try {
    fd = openSync(device, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const state = code === 'ENOENT' ? 'unavailable' : 'denied';
    return { state, requestedUs: us, reason: `${device}: ${code ?? (e as Error).message}`, release() {} };
  }
  try {
    // A native-endian s32, as the kernel reads it.
    writeSync(fd, new Int32Array([us]));
  } catch (e) {
    closeSync(fd);
    return { state: 'denied', requestedUs: us, reason: `${device}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, release() {} };
  }
  let open = true;
  return {
    state: 'held',
    requestedUs: us,
    reason: '',
    release() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/**
 * For the real-time benchmarks: was the audio thread waiting for a CPU when a block came late? Finds
 * the engine's real-time thread (SCHED_RR or SCHED_FIFO) and samples its /proc schedstat every
 * `intervalMs`: the time it spent runnable but not running in each interval (on the run queue:
 * another thread had the CPU). Time our own code spends — rendering, garbage collection, the event
 * loop — counts as running, not as waiting. Linux only; elsewhere it reports nothing.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { policyOf } from '../kernel/platform/cpu-affinity.ts';

/** The real-time threads (SCHED_RR or SCHED_FIFO: the audio thread, the standby) of process `pid` and of the processes it started (`chronus start` supervises the engine). */
export function realtimeThreads(pid: number): { pid: number; tid: string }[] {
  const found: { pid: number; tid: string }[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const policy = policyOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      if (policy === 1 || policy === 2) found.push({ pid, tid });
    }
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) found.push(...realtimeThreads(Number(child)));
  } catch {
    // No /proc, or the process ended.
  }
  return found;
}

/** Nanoseconds the thread has waited runnable so far (schedstat's second field), or NaN. */
function waitedNs(pid: number, tid: string): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return NaN;
  }
}

export class RunQueueMonitor {
  /** Whether the engine's audio thread was found. */
  readonly found: boolean;
  private readonly started = performance.now();
  /** Per interval: when it ended (s since start) and the ms the thread waited for a CPU in it. */
  private readonly samples: { seconds: number; waitMs: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(pid: number, intervalMs = 50) {
    // The first one: the live audio thread (the standby starts after it).
    const thread = realtimeThreads(pid).at(0);
    this.found = thread !== undefined;
    if (thread === undefined) return;
    let last = waitedNs(thread.pid, thread.tid);
    this.timer = setInterval(() => {
      const now = waitedNs(thread.pid, thread.tid);
      if (now - last >= 1e6) this.samples.push({ seconds: (performance.now() - this.started) / 1000, waitMs: (now - last) / 1e6 });
      last = now;
    }, intervalMs);
    this.timer.unref();
  }

  /** The most the thread waited for a CPU in one interval ending in [from, to] (s), 0 if never 1 ms. */
  maxWaitMs(from: number, to: number): number {
    let max = 0;
    for (const s of this.samples) if (s.seconds >= from && s.seconds <= to && s.waitMs > max) max = s.waitMs;
    return max;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

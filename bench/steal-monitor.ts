/**
 * For the real-time benchmarks: does an xrun coincide with the virtual machine not running our
 * vCPUs? Samples each CPU's steal time (/proc/stat: time the hypervisor ran something else while
 * this vCPU wanted to run) and the xrun count every `intervalMs`; for every interval in which xruns
 * rose it keeps the steal of that interval and the one before. Linux only; elsewhere it reports nothing.
 */
import { readFileSync } from 'node:fs';

/** Steal per CPU in ms (USER_HZ = 100 ticks a second). */
export function stealMs(): number[] {
  try {
    return readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((l) => /^cpu\d+ /.test(l))
      .map((l) => Number(l.trim().split(/\s+/)[8]) * 10);
  } catch {
    return [];
  }
}

export interface StealAtXrun {
  seconds: number;
  xruns: number;
  /** Steal per CPU (ms) over the interval the xrun fell in and the one before. */
  stealMs: number[];
}

export class StealMonitor {
  readonly atXruns: StealAtXrun[] = [];
  private readonly started = performance.now();
  private readonly first = stealMs();
  private timer: NodeJS.Timeout;

  constructor(xruns: () => number | Promise<number>, intervalMs = 250) {
    let before = this.first;
    let previous = before;
    let lastXruns = -1;
    let busy = false;
    this.timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const now = stealMs();
        const count = await xruns();
        if (lastXruns >= 0 && count > lastXruns) {
          this.atXruns.push({ seconds: (performance.now() - this.started) / 1000, xruns: count - lastXruns, stealMs: now.map((s, i) => s - before[i]) });
        }
        lastXruns = count;
        before = previous;
        previous = now;
      } catch {
        // A missed sample (a status reply lost) only leaves a gap.
      } finally {
        busy = false;
      }
    }, intervalMs);
    this.timer.unref();
  }

  /** Lines for the report: steal around each xrun, against the run's average. */
  stop(): string[] {
    clearInterval(this.timer);
    const total = stealMs().map((s, i) => s - this.first[i]);
    const seconds = (performance.now() - this.started) / 1000;
    if (total.length === 0) return [];
    const lines = [`  steal (VM): ${total.map((ms, cpu) => `cpu${cpu} ${((ms / seconds) * 0.5).toFixed(1)}`).join(', ')} ms per 0.5 s on average`];
    for (const x of this.atXruns) {
      lines.push(`    ${x.xruns} xrun(s) at ${x.seconds.toFixed(0)} s: steal ${x.stealMs.map((ms, cpu) => `cpu${cpu} ${ms} ms`).join(', ')} in the 0.5 s around it`);
    }
    return lines;
  }
}

/**
 * A CPU of its own for the audio thread (Linux): every other thread of the process — the control
 * thread, libuv's pool, V8's helpers, the standby audio thread until it is activated, esbuild
 * started from here — is confined to the other CPUs the process may use, and the audio thread to
 * the one that services the fewest device interrupts.
 *
 * Why: the kernels this runs on are often built without preemption of kernel code (PREEMPT_NONE,
 * as on this project's VMs), so an audio thread woken on a CPU where another thread is inside a
 * long system call (a large write, an fsync, unmapping memory) waits until that call reaches a
 * scheduling point — its real-time priority does not help. With the audio thread alone on its CPU
 * that wait has nothing to come from but the kernel's own per-CPU work. Which CPU matters too: on
 * this project's VMs every completion of the disk (virtio-blk) is handled on CPU 1, and a 10-minute
 * run streaming a WAV file to disk with a pattern saved every second had 2–4 xruns with the audio thread there (the thread
 * woke 18–50 ms late), none without the disk writes.
 *
 * Both sides use `taskset` (util-linux, next to `chrt`); nothing happens with fewer than two
 * allowed CPUs or where it fails. Never throws.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { succeeds, thisTaskId } from './thread-tools.ts';

/** CPUs this process may run on ("0-3,6" in /proc/self/status), or [] where that cannot be read. */
export function allowedCpus(): number[] {
  try {
    const list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    return parseCpuList(list);
  } catch {
    return [];
  }
}

/** "0-2,5" → [0, 1, 2, 5]. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}

export interface AudioCpu {
  /** The CPU kept for the audio thread. */
  cpu: number;
  /** Gives the process's threads all the CPUs they had again (when the engine stops). */
  restore(): void;
}

const setProcessCpus = (cpus: number[]) =>
  spawnSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus.join(','), String(process.pid)], { stdio: 'ignore' }).status === 0;

/** Device interrupts handled so far per CPU (the numbered rows of /proc/interrupts; the per-CPU timer and IPI rows are left out). */
export function parseDeviceInterrupts(text: string): number[] {
  const lines = text.split('\n');
  const cpuCount = (lines[0].match(/CPU\d+/g) ?? []).length;
  const counts = new Array<number>(cpuCount).fill(0);
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!/^\d+:$/.test(fields[0] ?? '')) continue;
    for (let c = 0; c < cpuCount; c++) counts[c] += Number(fields[1 + c]) || 0;
  }
  return counts;
}

/**
 * Of the allowed CPUs, the one with the least real-time work of other processes on it (another
 * engine's audio thread, JACK's), then the fewest device interrupts (the last of equals).
 */
export function pickAudioCpu(allowed: readonly number[], interrupts: readonly number[], realtime: readonly number[] = []): number {
  let best = allowed[allowed.length - 1];
  for (const cpu of allowed) {
    const rt = (realtime[cpu] ?? 0) - (realtime[best] ?? 0);
    if (rt < 0 || (rt === 0 && (interrupts[cpu] ?? 0) < (interrupts[best] ?? 0))) best = cpu;
  }
  return best;
}

const PF_KTHREAD = 0x00200000;

/**
 * The scheduling policy of a /proc/<pid>/task/<tid>/stat line (0 normal, 1 FIFO, 2 RR, …); -1 for a
 * kernel thread (the kernel's per-CPU real-time threads sit on every CPU alike).
 */
export function policyOf(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (Number(fields[9 - 3]) & PF_KTHREAD) return -1;
  return Number(fields[41 - 3]);
}

/**
 * Real-time threads (SCHED_FIFO or SCHED_RR) of other processes, per CPU: a thread allowed on k CPUs
 * counts 1/k on each. Reads /proc; [] where it cannot.
 */
export function realtimeThreadsPerCpu(): number[] {
  const load: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return load;
  }
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const policy = policyOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
        if (policy !== 1 && policy !== 2) continue;
        const cpus = parseCpuList(/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? '');
        for (const c of cpus) load[c] = (load[c] ?? 0) + 1 / cpus.length;
      } catch {
        // The thread ended while we looked.
      }
    }
  }
  return load;
}

function deviceInterrupts(): number[] {
  try {
    return parseDeviceInterrupts(readFileSync('/proc/interrupts', 'utf8'));
  } catch {
    return [];
  }
}

/**
 * Control thread, before the audio worker starts: picks the audio thread's CPU and confines every
 * thread of the process to the other allowed CPUs (null: not done).
 */
export function reserveAudioCpu(): AudioCpu | null {
  const cpus = allowedCpus();
  if (cpus.length < 2) return null;
  const audio = pickAudioCpu(cpus, deviceInterrupts(), realtimeThreadsPerCpu());
  if (!setProcessCpus(cpus.filter((c) => c !== audio))) return null;
  return { cpu: audio, restore: () => void setProcessCpus(cpus) };
}

/** Audio thread: runs the calling thread on `cpu` only (`taskset` as a child process: the thread goes on meanwhile). */
export async function pinThisThread(cpu: number): Promise<boolean> {
  const tid = thisTaskId();
  return tid !== 0 && (await succeeds('taskset', ['--pid', '--cpu-list', String(cpu), String(tid)]));
}

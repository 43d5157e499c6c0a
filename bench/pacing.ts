/**
 * The null backend's pacing loop with no engine (issue 16: are the late blocks at 128 frames ours or
 * the machine's?). A worker thread set up as the audio thread is (the CPU reserved for it, SCHED_RR
 * priority 2, else nice −11) runs kernel/audio/backends/null-backend.ts's loop: keep `--lead` blocks
 * ahead of a drift-corrected clock, sleep with `Atomics.wait`, yield with `setImmediate` — and
 * instead of rendering, spins `--render-ms` per block. No plugin, no allocation, no garbage, no
 * messages: whatever wakes late here is the OS and the hypervisor, not Chronus.
 *
 *   npm run bench -- pacing [--block 128] [--seconds 120] [--lead 3] [--render-ms 0.3]
 *
 * Prints the wake-ups later than 1, 2, 5, 8 and 16 ms, the latest, the xruns the null backend would
 * have counted (a block finished after its deadline; the clock then re-anchors, as there), and the
 * steal time of each CPU over the run (/proc/stat: time the hypervisor ran something else) and the
 * most real-time threads of other processes seen at once (other engines' audio threads run at the
 * same SCHED_RR priority: a busy one takes the CPU for 100 ms time slices).
 */
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { pinThisThread, realtimeThreadsPerCpu, reserveAudioCpu } from '../kernel/platform/cpu-affinity.ts';
import { raiseAudioThreadPriority } from '../kernel/platform/thread-priority.ts';
import { stealMs } from './steal-monitor.ts';

interface Setup {
  block: number;
  seconds: number;
  lead: number;
  renderMs: number;
  cpu: number | null;
}

const THRESHOLDS_MS = [1, 2, 5, 8, 16];

function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The worker: null-backend.ts's tick loop around a spin. */
async function pace(s: Setup): Promise<void> {
  const pinned = s.cpu !== null && (await pinThisThread(s.cpu));
  const priority = await raiseAudioThreadPriority();
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const blockMs = (s.block / 48000) * 1000;
  const late = THRESHOLDS_MS.map(() => 0);
  let maxLate = 0;
  let xruns = 0;
  let k = 0;
  let t0 = wallMs() + s.lead * blockMs;
  let wakeAt = wallMs();
  const end = wallMs() + s.seconds * 1000;
  const renderNext = (): number => {
    const began = performance.now();
    while (performance.now() - began < s.renderMs);
    const now = wallMs();
    if (now > t0 + k * blockMs) {
      xruns++;
      t0 = now - k * blockMs;
    }
    k++;
    return now;
  };
  const tick = (): void => {
    let now = wallMs();
    const lateMs = now - wakeAt;
    if (lateMs > maxLate) maxLate = lateMs;
    for (let i = 0; i < THRESHOLDS_MS.length; i++) if (lateMs > THRESHOLDS_MS[i]) late[i]++;
    if (now > end) {
      parentPort?.postMessage({ blocks: k, xruns, maxLate, late, pinned, priority });
      return;
    }
    while (t0 + (k - s.lead) * blockMs <= now) now = renderNext();
    const sleep = t0 + (k - s.lead) * blockMs - now;
    wakeAt = sleep > 0 ? now + sleep : now;
    if (sleep > 0) Atomics.wait(wake, 0, 0, sleep);
    setImmediate(tick);
  };
  setImmediate(tick);
}

if (!isMainThread) {
  await pace(workerData as Setup);
} else {
  const { values } = parseArgs({
    options: {
      block: { type: 'string', default: '128' },
      seconds: { type: 'string', default: '120' },
      lead: { type: 'string', default: '3' },
      'render-ms': { type: 'string', default: '0.3' },
    },
  });
  const reserved = reserveAudioCpu();
  const setup: Setup = { block: Number(values.block), seconds: Number(values.seconds), lead: Number(values.lead), renderMs: Number(values['render-ms']), cpu: reserved?.cpu ?? null };
  const blockMs = (setup.block / 48000) * 1000;
  process.stdout.write(
    `pacing: ${setup.block}-frame blocks (${blockMs.toFixed(2)} ms), lead ${setup.lead} (${(setup.lead * blockMs).toFixed(1)} ms of margin), ${setup.renderMs} ms spin per block, ${setup.seconds} s, no engine\n`,
  );
  const stealBefore = stealMs();
  // Other processes' real-time threads (other engines' audio threads) share the CPUs at the same priority.
  let otherRealtime = 0;
  const rt = setInterval(() => {
    const n = Math.round(realtimeThreadsPerCpu().reduce((a, b) => a + b, 0));
    if (n > otherRealtime) otherRealtime = n;
  }, 1000);
  // A .ts worker entry needs tsx registered in its own thread first (as kernel/host/audio-worker.mjs does).
  const boot = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(import.meta.url)});`;
  const worker = new Worker(boot, { eval: true, workerData: setup });
  const r = await new Promise<{ blocks: number; xruns: number; maxLate: number; late: number[]; pinned: boolean; priority: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  clearInterval(rt);
  await worker.terminate();
  reserved?.restore();
  const steal = stealMs().map((ms, i) => ms - (stealBefore[i] ?? 0));
  process.stdout.write(
    [
      `  thread: ${r.priority}${r.pinned ? `, alone on CPU ${setup.cpu}` : ', not pinned'}; ${r.blocks} blocks`,
      `  wake-ups late by more than ${THRESHOLDS_MS.map((t, i) => `${t} ms: ${r.late[i]}`).join(', ')}; latest ${r.maxLate.toFixed(1)} ms`,
      `  xruns (a block finished after its deadline): ${r.xruns}`,
      `  steal over the run, per CPU: ${steal.map((ms) => `${ms} ms`).join(', ') || 'n/a'}; real-time threads of other processes: up to ${otherRealtime} at once`,
      '',
    ].join('\n'),
  );
}

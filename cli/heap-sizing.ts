/**
 * The control thread's young generation stays at V8's initial size (two 1 MiB semi-spaces) while the
 * engine plays. Under a steady stream of OSC (1,000 messages a second in the stress bench) V8 grows
 * it to its 32 MiB maximum and keeps it: a third of the engine's heap memory, for a thread whose
 * garbage is short-lived. It can only be capped when the process starts (`--max-semi-space-size`),
 * but how far it grows is read at each growth: a growth factor of 1 means never. V8 puts the factor
 * back to 2 whenever it sets up another isolate (a worker), so it is said again once each is up.
 * Workers size their own heaps (`resourceLimits`).
 */
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';

/**
 * How far past what its last full collection kept a heap may grow before the next one, in percent,
 * for every thread of the engine (V8 has no per-thread setting). V8's own factor is up to 4× on a
 * machine with memory to spare, and the engine's threads are told not to shrink a quiet heap (the
 * memory reducer is off: kernel/host/worker-host.ts): in the 5-minute stress bench the control thread's
 * old generation, fed by its small young generation's promotions, grew from 22 to 68 MiB before its
 * first full collection (--trace-gc), and the engine's RSS from 142 to 205 MiB. With 50 % it is
 * collected at about 28 MiB every 9 s, the audio thread twice in 2 minutes, and the RSS stays
 * within 142–150 MiB.
 */
const HEAP_GROWING_PERCENT = 50;

const noGrowth = () => v8.setFlagsFromString('--semi-space-growth-factor=1');

export function keepYoungGenerationSmall(): void {
  noGrowth();
  // Said again when the worker is up, or gone if it failed before that (its isolate may exist by then).
  process.on('worker', (worker: Worker) => worker.once('online', noGrowth).once('exit', noGrowth));
}

/**
 * Full collections come after the heap grew by HEAP_GROWING_PERCENT of what the last one kept (read at
 * each collection), unless node was given a value of its own (a bench trying others; 0 is V8's own).
 */
export function boundHeapGrowth(): void {
  if (process.execArgv.some((a) => /^--heap[-_]growing[-_]percent/.test(a))) return;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

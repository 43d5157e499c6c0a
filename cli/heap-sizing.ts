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

const noGrowth = () => v8.setFlagsFromString('--semi-space-growth-factor=1');

export function keepYoungGenerationSmall(): void {
  noGrowth();
  // Said again when the worker is up, or gone if it failed before that (its isolate may exist by then).
  process.on('worker', (worker: Worker) => worker.once('online', noGrowth).once('exit', noGrowth));
}

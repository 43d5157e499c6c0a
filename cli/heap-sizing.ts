/**
 * How the engine process sizes its V8 heaps (issue 16: RSS through the stress bench). Workers size
 * their own young generations (`resourceLimits`, kernel/host/worker-host.ts).
 */
import v8 from 'node:v8';

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

/**
 * Node flags of the engine process, given by its supervisor (cli/supervisor.ts) before its own.
 * `--max-semi-space-size=1`: the control thread's young generation stays at V8's initial size (two
 * 1 MiB semi-spaces). Under a steady stream of OSC (1,000 messages a second in the stress bench) V8
 * grew it to 8–32 MiB and kept it, for a thread whose garbage is short-lived; a growth factor of 1
 * set at run time did not hold it, since V8 sets the factor back whenever a worker's isolate is set
 * up. Only the process's start can cap it. (A start's code cache is stamped with it: bin/code-cache.mjs.)
 */
export const ENGINE_NODE_FLAGS = ['--max-semi-space-size=1'];

/**
 * Full collections come after the heap grew by HEAP_GROWING_PERCENT of what the last one kept (read at
 * each collection), unless node was given a value of its own (a bench trying others; 0 is V8's own).
 */
export function boundHeapGrowth(): void {
  if (process.execArgv.some((a) => /^--heap[-_]growing[-_]percent/.test(a))) return;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

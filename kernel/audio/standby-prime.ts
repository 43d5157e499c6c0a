/**
 * Priming a standby audio thread (kernel/host/worker-host.ts keeps one ready to replace a hung one): the
 * current plugin versions are evaluated in it and played privately for a moment, so that after a
 * hang their code is compiled, their WebAssembly kernels are in this thread's cache and V8 has seen
 * them run. The live `load` then takes the definitions from here instead of evaluating the code again.
 */
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import { evaluatePlugin } from '../plugins/plugin-runtime.ts';
import type { SlotSpec } from './slot-spec.ts';
import { trialEngine } from './trial-engine.ts';

/** Blocks of private audio per priming: enough to compile and cache the kernels, not to tire the CPU. */
const PRIME_BLOCKS = 40;

export class StandbyPrime {
  /** Definitions by slot id (a slot id names one version's code). */
  private readonly definitions = new Map<number, PluginDefinition>();

  constructor(
    private readonly sampleRate: number,
    private readonly blockSize: number,
    private readonly smoothingMs: number,
  ) {}

  /**
   * Evaluates and plays privately the versions of `specs` that have not run here yet (a version tried
   * here, or primed before, has: playing every plugin again after each reload only made garbage, the
   * scratch instances' buffers, for a standby that rarely collects it). A version that fails here
   * is simply not primed. Specs come by reference (`codeByReference`: no code): returns the slot ids
   * of those it has not evaluated, whose code it needs (an empty list: done).
   */
  prime(specs: readonly SlotSpec[]): number[] {
    const keep = new Set(specs.map((s) => s.slotId));
    for (const id of this.definitions.keys()) if (!keep.has(id)) this.definitions.delete(id);
    const missing = specs.filter((s) => s.codeByReference && !this.definitions.has(s.slotId)).map((s) => s.slotId);
    const fresh = specs.filter((s) => !s.codeByReference && !this.definitions.has(s.slotId));
    if (fresh.length === 0) return missing;
    const scratch = trialEngine(this.sampleRate, this.blockSize, this.smoothingMs);
    for (const spec of fresh) {
      try {
        const definition = evaluatePlugin(spec.code, spec.filename);
        this.definitions.set(spec.slotId, definition);
        scratch.load(spec, definition);
      } catch {
        // The live load will say what is wrong, if it is still wrong then.
      }
    }
    const l = new Float32Array(this.blockSize);
    const r = new Float32Array(this.blockSize);
    for (let b = 0; b < PRIME_BLOCKS; b++) {
      scratch.renderBlock(l, r, this.blockSize);
      scratch.housekeeping();
    }
    for (const spec of fresh) {
      try {
        scratch.unload(spec.pluginId);
      } catch {
        // A scratch instance that fails to dispose leaves nothing the live graph uses.
      }
    }
    return missing;
  }

  /** A version's definition evaluated here already (its trial): a prime that lists it does not evaluate it again. */
  keep(slotId: number, definition: PluginDefinition): void {
    this.definitions.set(slotId, definition);
  }

  /** The primed definition of this version, if any. */
  definition(spec: SlotSpec): PluginDefinition | undefined {
    return this.definitions.get(spec.slotId);
  }
}

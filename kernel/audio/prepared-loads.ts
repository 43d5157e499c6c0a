/**
 * Loads of new plugin versions on the audio thread, made short (issue 16, save-to-audible): a version
 * is evaluated here while the control thread still tries it (`prepare`, between blocks: the module's
 * top level, which already ran to its end in the standby's trial), so its `load` only runs `create`; and
 * each renders ahead only as many blocks as its plugin's last one here needs, not a whole lead —
 * every block rendered ahead of a load is heard before the new version.
 */
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import { evaluatePlugin } from '../plugins/plugin-runtime.ts';
import type { AudioEngine } from './audio-engine.ts';
import type { PrepareSpec, SlotSpec } from './slot-spec.ts';

/** The stall a load may cause, as a multiple of the longest of its plugin's last loads here. */
const STALL_MARGIN = 2;
/** How many of a plugin's last loads (or prepares) count: one slow one (a collection) weighs for this many. */
const REMEMBERED = 4;

export class PreparedLoads {
  /** The version evaluated ahead of its load, the latest per plugin, with its code. */
  private readonly prepared = new Map<string, { slotId: number; definition: PluginDefinition; code: string }>();
  /** How long each plugin's last prepares and loads took here (ms), by `<step> <plugin id>`, the latest last. */
  private readonly tookMs = new Map<string, number[]>();

  constructor(
    private readonly blockMs: number,
    private readonly leadBlocks: number,
  ) {}

  /**
   * Evaluate `spec` now (marked as its plugin's call, for the watchdog); a failure is the load's to
   * report. Blocks rendered ahead for it are heard before its load comes, the trial being longer.
   */
  prepare(engine: AudioEngine, spec: PrepareSpec, renderAhead: (blocks: number) => void): void {
    this.prepared.delete(spec.pluginId);
    renderAhead(this.aheadFor('prepare', spec.pluginId));
    const began = performance.now();
    try {
      const definition = engine.between(spec.slotId, () => evaluatePlugin(spec.code, spec.filename));
      this.prepared.set(spec.pluginId, { slotId: spec.slotId, definition, code: spec.code });
    } catch {
      // Evaluated again by its load, which says what is wrong.
    }
    this.took('prepare', spec.pluginId, performance.now() - began);
  }

  /**
   * The definition prepared for this version, if any (taken: a version loads once), and its spec with
   * the code it was prepared from: a load sent by reference carries none, and the slot keeps its spec
   * (a snapshot holds it, and a session replay evaluates it).
   */
  take(spec: SlotSpec): { definition: PluginDefinition; spec: SlotSpec } | undefined {
    const p = this.prepared.get(spec.pluginId);
    if (p?.slotId !== spec.slotId) return undefined;
    this.prepared.delete(spec.pluginId);
    const { codeByReference: _sent, ...rest } = spec;
    return { definition: p.definition, spec: { ...rest, code: p.code } };
  }

  /**
   * Blocks to render ahead of a prepare or load of a version of `pluginId`: enough that the margin
   * holds twice the longest of the plugin's last few (the loop keeps at least leadBlocks - 1
   * queued); all of the lead the first time.
   */
  aheadFor(step: 'prepare' | 'load', pluginId: string): number {
    const times = this.tookMs.get(`${step} ${pluginId}`);
    if (times === undefined) return this.leadBlocks;
    const needed = Math.ceil((STALL_MARGIN * Math.max(...times)) / this.blockMs) - (this.leadBlocks - 1);
    return Math.min(this.leadBlocks, Math.max(0, needed));
  }

  took(step: 'prepare' | 'load', pluginId: string, ms: number): void {
    const key = `${step} ${pluginId}`;
    this.tookMs.set(key, [...(this.tookMs.get(key) ?? []), ms].slice(-REMEMBERED));
  }
}

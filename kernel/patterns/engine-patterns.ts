/**
 * Saving and loading the whole engine to and from pattern slots (control thread).
 *
 * Save: every parameter's base value (`registry.values`, by module id and parameter name) and every
 * plugin's `getState()` (sequencer tracks and tempo, LFO targets, …) into one slot document, validated
 * against the slot schema before it is written, so a saved slot always loads.
 *
 * Load: the file is read and validated (or migrated) first, and each plugin's state against that
 * plugin's `stateSchema` (bounds, maybe clamping; the parsed value is what it gets); nothing is
 * touched until all of it passes — a state out of range refuses the slot, naming the plugin and field.
 * Plugin states are restored next — controllers (the sequencer) get `applyAt: 'bar'` (land on the next
 * bar) or `'now'` (`immediate`); if any plugin refuses its state, the ones already restored get their
 * previous state back and the load is refused. Parameters are set last (`control.set`, clamped),
 * waveform and slide included. Modules, parameters and plugins the engine does not have are skipped
 * and listed as notices.
 *
 * Save and load each run alone in the store's serial queue; the audio thread only receives messages.
 */
import type { EngineServices, PluginsView } from '../engine/engine-services.ts';
import { PACKAGE_VERSION } from '../package-root.ts';
import { ChronusError, ErrorCode, formatZodIssues } from '../base/errors.ts';
import { PatternStore, checkSlot, serialize, type SlotInfo } from './pattern-store.ts';
import { refuse } from './slot-common.ts';
import { legacyReaders } from './legacy.ts';
import { SCHEMA_VERSION, SLOT_FORMAT, checkDocument, type SlotDocument } from './slot-schema.ts';


export interface SaveResult {
  slot: number;
  file: string;
  /** The name given to `/pattern/save <slot> <name>`, if any. */
  name?: string;
  bytes: number;
  params: number;
  plugins: string[];
}

export interface LoadResult {
  slot: number;
  file: string;
  /** When the controllers' (sequencer's) part lands. */
  sequencer: 'bar' | 'now';
  params: number;
  plugins: string[];
  notices: string[];
  migratedFrom?: string;
}

/** What saving and loading patterns use of the engine. */
export type PatternsHost = Pick<EngineServices, 'config' | 'registry' | 'plugins' | 'audio' | 'control'>;

export class EnginePatterns {
  readonly store: PatternStore;

  constructor(private readonly engine: PatternsHost) {
    this.store = new PatternStore(engine.config.paths.patterns);
  }

  /** The engine as a slot document (parameters + plugin states), named when `name` is given. */
  async capture(slot: number, name?: string): Promise<SlotDocument> {
    const { registry, plugins, audio } = this.engine;
    const params: Record<string, Record<string, number>> = {};
    for (const m of registry.modules.values()) {
      const values: Record<string, number> = {};
      for (const p of m.params.values()) if (!p.spec.deprecated) values[p.name] = registry.values[p.index];
      if (Object.keys(values).length > 0) params[m.id] = values;
    }
    const ids = [...plugins.loaded.keys()];
    const states = await Promise.all(ids.map((id) => audio.call('getState', id, 'save')));
    const pluginStates: Record<string, unknown> = {};
    ids.forEach((id, i) => {
      if (states[i] !== undefined) pluginStates[id] = states[i];
    });
    return {
      format: SLOT_FORMAT,
      schema_version: SCHEMA_VERSION,
      chronus_version: PACKAGE_VERSION,
      saved_at: new Date().toISOString(),
      slot,
      ...(name === undefined ? {} : { name }),
      params,
      plugins: pluginStates,
    };
  }

  /** `/pattern/save <slot> [name]`. */
  save(slot: number, name?: string): Promise<SaveResult> {
    checkSlot(slot);
    return this.store.exclusive(async () => {
      const label = this.store.label(slot);
      const doc = checkDocument(await this.capture(slot, name), label);
      const problems = checkStates(this.engine.plugins, doc.plugins, label).problems;
      if (problems.length > 0) {
        throw new ChronusError(ErrorCode.PATTERN_INVALID, `${label} was not saved: a plugin's state does not pass its own stateSchema:`, {
          details: problems,
          hint: 'The plugin is in a bad state (is it bypassed? /engine/plugins); /engine/plugin/reset <id> gives it a fresh instance.',
        });
      }
      const { file, bytes } = await this.store.write(slot, serialize(doc));
      return { slot, file, ...(name === undefined ? {} : { name }), bytes, params: Object.values(doc.params).reduce((n, m) => n + Object.keys(m).length, 0), plugins: Object.keys(doc.plugins) };
    });
  }

  /** `/pattern/load <slot> [immediate]`. */
  load(slot: number, immediate = false): Promise<LoadResult> {
    checkSlot(slot);
    return this.store.exclusive(async () => {
      const { doc, notices, migratedFrom } = await this.store.read(slot, legacyReaders(this.engine.plugins));
      const label = this.store.label(slot);
      const { registry, plugins, audio, control } = this.engine;
      const applyAt = immediate ? 'now' : 'bar';

      // Plan everything before touching anything.
      const sets: { index: number; value: number }[] = [];
      for (const [moduleId, values] of Object.entries(doc.params)) {
        const m = registry.modules.get(moduleId);
        if (!m) {
          notices.push(`module "${moduleId}" is not loaded; its ${Object.keys(values).length} parameters were skipped`);
          continue;
        }
        for (const [name, value] of Object.entries(values)) {
          const p = m.params.get(name);
          if (p) sets.push({ index: p.index, value });
          else notices.push(`"${moduleId}" has no parameter "${name}"; skipped`);
        }
      }
      const checked = checkStates(plugins, doc.plugins, label);
      if (checked.problems.length > 0) throw refuse(label, checked.problems);
      const states: { id: string; state: unknown; controller: boolean }[] = [];
      for (const [id, state] of checked.states) {
        const p = plugins.loaded.get(id);
        if (p) states.push({ id, state, controller: p.manifest.role === 'controller' });
        else notices.push(`plugin "${id}" is not loaded; its state was skipped`);
      }

      // Plugin states (they validate themselves), all sent at once (the audio thread takes them in
      // order between blocks); if one refuses, the others get their previous state back.
      // The previous states are read in the same turn, just before (messages keep their order).
      const [before, results] = await Promise.all([
        // A broken instance may fail to give its state: it just gets nothing back on a rollback.
        Promise.all(states.map((s) => audio.call('getState', s.id, 'save').catch(() => undefined))),
        Promise.allSettled(states.map((s) => audio.call('setState', s.id, s.controller ? withApplyAt(s.state, applyAt) : s.state))),
      ]);
      const failed = results.findIndex((r) => r.status === 'rejected');
      if (failed >= 0) {
        await Promise.allSettled(
          states.map((s, j) => {
            if (results[j].status !== 'fulfilled' || before[j] === undefined) return undefined;
            return audio.call('setState', s.id, s.controller ? withApplyAt(before[j], 'now') : before[j]);
          }),
        );
        const reason = (results[failed] as PromiseRejectedResult).reason;
        throw refuse(label, [`${label}: plugins.${states[failed].id}: ${firstLine(reason)}`]);
      }
      for (const s of sets) control.set(s.index, s.value);
      return {
        slot,
        file: label,
        sequencer: applyAt,
        params: sets.length,
        plugins: states.map((s) => s.id),
        notices,
        ...(migratedFrom ? { migratedFrom } : {}),
      };
    });
  }

  list(): Promise<SlotInfo[]> {
    return this.store.list();
  }
}

/**
 * Each loaded plugin's state checked against its `stateSchema`: the parsed states (clamped where the
 * schema clamps), and one line per problem naming the slot, plugin and field. States of plugins that
 * are not loaded, or declare no schema, pass as they are (the slot schema has bounded them already).
 */
function checkStates(plugins: PluginsView, states: Record<string, unknown>, label: string): { states: [string, unknown][]; problems: string[] } {
  const out: [string, unknown][] = [];
  const problems: string[] = [];
  for (const [id, state] of Object.entries(states)) {
    const schema = plugins.loaded.get(id)?.definition.stateSchema;
    if (schema === undefined) {
      out.push([id, state]);
      continue;
    }
    const parsed = schema.safeParse(state);
    if (parsed.success) out.push([id, parsed.data]);
    else problems.push(...formatZodIssues(parsed.error, `${label}: plugins.${id}`, state));
  }
  return { states: out, problems };
}

function withApplyAt(state: unknown, applyAt: 'bar' | 'now'): unknown {
  return state !== null && typeof state === 'object' && !Array.isArray(state) ? { ...state, applyAt } : state;
}

/** An error from the audio thread as one line (the worker sends the stack). */
function firstLine(error: unknown): string {
  const text = (error as Error)?.message ?? String(error);
  return text.split('\n')[0].replace(/^\w*Error: /, '');
}

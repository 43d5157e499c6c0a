/**
 * The whole engine as data, and back (control thread): every parameter's base value and every loaded
 * plugin's 'save' state (`ctx.engine.capture` / `ctx.engine.restore`, which pattern slots and session
 * snapshots are made of).
 *
 * Restore plans everything before touching anything: each state is checked against its plugin's
 * `stateSchema` (the parsed value is what the plugin gets) and a problem refuses the whole snapshot.
 * States go to the audio thread all at once (taken in order between blocks), controllers' (the
 * sequencer's) landing on the next bar or at once; if one plugin refuses its state, the others get
 * their previous state back. Parameters are set last (smoothed, clamped). Modules, parameters and
 * plugins the engine does not have are skipped and listed as notices.
 */
import type { EngineSnapshot, RestoreOptions, RestoreOutcome } from '../../plugin-sdk/control.ts';
import { formatZodIssues } from '../base/errors.ts';
import type { AudioHost } from '../host/audio-host.ts';
import type { ParamControl } from '../params/param-control.ts';
import type { SchemaRegistry } from '../params/schema-registry.ts';
import type { PluginHost } from '../plugins/plugin-host.ts';

export interface SnapshotSources {
  readonly registry: Pick<SchemaRegistry, 'modules' | 'values'>;
  readonly plugins: Pick<PluginHost, 'loaded'>;
  readonly audio: Pick<AudioHost, 'call'>;
  readonly control: Pick<ParamControl, 'set'>;
}

/** The engine now; `problems` lists states that do not pass their plugin's own stateSchema (one line each). */
export async function captureEngine(s: SnapshotSources): Promise<{ snapshot: EngineSnapshot; problems: string[] }> {
  const params: Record<string, Record<string, number>> = {};
  for (const m of s.registry.modules.values()) {
    const values: Record<string, number> = {};
    for (const p of m.params.values()) if (!p.spec.deprecated) values[p.name] = s.registry.values[p.index];
    if (Object.keys(values).length > 0) params[m.id] = values;
  }
  const ids = [...s.plugins.loaded.keys()];
  const states = await Promise.all(ids.map((id) => s.audio.call('getState', id, 'save')));
  const plugins: Record<string, unknown> = {};
  ids.forEach((id, i) => {
    if (states[i] !== undefined) plugins[id] = states[i];
  });
  return { snapshot: { params, plugins }, problems: checkStates(s.plugins, plugins).problems };
}

export async function restoreEngine(s: SnapshotSources, snapshot: EngineSnapshot, options: RestoreOptions): Promise<RestoreOutcome> {
  const { registry, plugins, audio, control } = s;
  const notices: string[] = [];
  const sets: { index: number; value: number }[] = [];
  for (const [moduleId, values] of Object.entries(snapshot.params)) {
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
  const checked = checkStates(plugins, snapshot.plugins);
  if (checked.problems.length > 0) return { ok: false, problems: checked.problems };
  const states: { id: string; state: unknown; controller: boolean }[] = [];
  for (const [id, state] of checked.states) {
    const p = plugins.loaded.get(id);
    if (p) states.push({ id, state, controller: p.manifest.role === 'controller' });
    else notices.push(`plugin "${id}" is not loaded; its state was skipped`);
  }

  // The previous states are read in the same turn, just before (messages keep their order); a broken
  // instance may fail to give its state: it just gets nothing back on a rollback.
  const [before, results] = await Promise.all([
    Promise.all(states.map((st) => audio.call('getState', st.id, 'save').catch(() => undefined))),
    Promise.allSettled(states.map((st) => audio.call('setState', st.id, st.controller ? withApplyAt(st.state, options.controllersAt) : st.state))),
  ]);
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    await Promise.allSettled(
      states.map((st, j) => {
        if (results[j].status !== 'fulfilled' || before[j] === undefined) return undefined;
        return audio.call('setState', st.id, st.controller ? withApplyAt(before[j], 'now') : before[j]);
      }),
    );
    const reason = (results[failed] as PromiseRejectedResult).reason;
    return { ok: false, problems: [`plugins.${states[failed].id}: ${firstLine(reason)}`] };
  }
  for (const set of sets) control.set(set.index, set.value);
  return { ok: true, params: sets.length, plugins: states.map((st) => st.id), notices };
}

/**
 * Each loaded plugin's state checked against its `stateSchema`: the parsed states (clamped where the
 * schema clamps), and one line per problem naming the plugin and field. States of plugins that are
 * not loaded, or declare no schema, pass as they are.
 */
function checkStates(plugins: Pick<PluginHost, 'loaded'>, states: Record<string, unknown>): { states: [string, unknown][]; problems: string[] } {
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
    else problems.push(...formatZodIssues(parsed.error, `plugins.${id}`, state));
  }
  return { states: out, problems };
}

function withApplyAt(state: unknown, applyAt: RestoreOptions['controllersAt']): unknown {
  if (applyAt === 'resume') return state;
  return state !== null && typeof state === 'object' && !Array.isArray(state) ? { ...state, applyAt } : state;
}

/** An error from the audio thread as one line (the worker sends the stack). */
function firstLine(error: unknown): string {
  const text = (error as Error)?.message ?? String(error);
  return text.split('\n')[0].replace(/^\w*Error: /, '');
}

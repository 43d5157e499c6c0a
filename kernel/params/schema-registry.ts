/**
 * The parameter schema registry (control thread): every module and parameter the loaded plugins
 * declare, their stable global indices (shared with the audio thread), and the control-side copy
 * of each parameter's base value (what patterns save and status reports).
 */
import type { ParamSpec, ParamTable } from '../../plugin-sdk/types.ts';
import { clamp } from '../../plugin-sdk/dsp/clamp.ts';

export interface ParamEntry {
  module: string;
  name: string;
  index: number;
  spec: ParamSpec;
}

export interface ModuleEntry {
  id: string;
  pluginId: string;
  /** Schema group key: a pattern's stem ("voice") for pattern modules, otherwise the module id. */
  group: string;
  params: Map<string, ParamEntry>;
  gate: number | undefined;
}

export class SchemaRegistry {
  readonly modules = new Map<string, ModuleEntry>();
  /** What a parameter without its own `smoothingMs` is smoothed over (config engine.smoothingMs), as the audio side does it. */
  defaultSmoothingMs = 20;
  /** Control-side base values by parameter index. */
  readonly values: number[] = [];
  private readonly paramIndices = new Map<string, number>();
  private readonly gateIndices = new Map<string, number>();
  private readonly byIndex: (ParamEntry | undefined)[] = [];

  /** Register (or re-register, on reload) the modules of one plugin; returns what the audio thread needs. */
  register(
    pluginId: string,
    group: string | null,
    modules: readonly string[],
    table: ParamTable,
    gates: boolean,
    moduleDefaults?: Readonly<Record<string, Readonly<Record<string, number>>>>,
  ) {
    const removed: string[] = [];
    for (const id of modules) {
      const old = this.modules.get(id);
      if (old && old.pluginId !== pluginId) throw new Error(`module '${id}' is already provided by plugin '${old.pluginId}'`);
    }
    const params: { module: number; name: string; index: number; spec: ParamSpec }[] = [];
    const gateList: { module: number; index: number }[] = [];
    modules.forEach((id, m) => {
      const entry: ModuleEntry = { id, pluginId, group: group ?? id, params: new Map(), gate: undefined };
      const old = this.modules.get(id);
      for (const name of old?.params.keys() ?? []) if (!(name in table)) removed.push(`${id}/${name}`);
      for (const [name, tableSpec] of Object.entries(table)) {
        const key = `${id}/${name}`;
        const override = moduleDefaults?.[id]?.[name];
        const spec = override === undefined ? tableSpec : { ...tableSpec, default: override };
        let index = this.paramIndices.get(key);
        const fresh = index === undefined;
        if (index === undefined) {
          index = this.values.length;
          this.paramIndices.set(key, index);
          this.values.push(spec.default);
        }
        if (fresh || !old?.params.has(name)) this.values[index] = spec.default;
        else this.values[index] = clamp(this.values[index], spec.min, spec.max);
        const p: ParamEntry = { module: id, name, index, spec };
        entry.params.set(name, p);
        this.byIndex[index] = p;
        params.push({ module: m, name, index, spec });
      }
      if (gates) {
        let g = this.gateIndices.get(id);
        if (g === undefined) {
          g = this.gateIndices.size;
          this.gateIndices.set(id, g);
        }
        entry.gate = g;
        gateList.push({ module: m, index: g });
      }
      this.modules.set(id, entry);
    });
    return { params, gates: gateList, removed };
  }

  unregister(pluginId: string): void {
    for (const [id, m] of this.modules) {
      if (m.pluginId !== pluginId) continue;
      for (const p of m.params.values()) this.byIndex[p.index] = undefined;
      this.modules.delete(id);
    }
  }

  param(module: string, name: string): ParamEntry | undefined {
    return this.modules.get(module)?.params.get(name);
  }

  paramAt(index: number): ParamEntry | undefined {
    return this.byIndex[index];
  }

  /** Clamp (and round int/enum) a value to a parameter's range; reports whether it was out of range. */
  static clamp(spec: ParamSpec, value: number): { value: number; clamped: boolean } {
    let v = clamp(value, spec.min, spec.max);
    if (spec.type === 'int' || spec.type === 'enum') v = Math.round(v);
    return { value: v, clamped: v !== value };
  }

  /**
   * `/engine/schema`: a superset of the old engine's export (modules → instances, params with
   * smoothing_ms; per module `name`, `type` and `notes` from `about(pluginId)`).
   */
  toJSON(routes: readonly string[], about: (pluginId: string) => { name: string; description: string } | undefined = () => undefined): Record<string, unknown> {
    const modules: Record<string, unknown> = {};
    for (const m of this.modules.values()) {
      const info = about(m.pluginId);
      const described = info ? { name: `${info.name} (${m.group})`, type: m.pluginId, notes: info.description } : { type: m.pluginId };
      const group = (modules[m.group] ??= { ...described, plugin: m.pluginId, instances: [] as string[], params: {}, gates: [] as string[] }) as {
        instances: string[];
        params: Record<string, unknown>;
        gates: string[];
      };
      group.instances.push(m.id);
      if (m.gate !== undefined && group.gates.length === 0) group.gates.push('gate');
      for (const p of m.params.values()) {
        if (p.spec.deprecated || p.name in group.params) continue;
        group.params[p.name] = {
          type: p.spec.type ?? 'float',
          min: p.spec.min,
          max: p.spec.max,
          default: p.spec.default,
          smoothing_ms: p.spec.smoothingMs ?? (p.spec.type === 'int' || p.spec.type === 'enum' ? 0 : this.defaultSmoothingMs),
          ...(p.spec.unit ? { unit: p.spec.unit } : {}),
          ...(p.spec.values ? { values: p.spec.values } : {}),
          ...(p.spec.description ? { description: p.spec.description } : {}),
        };
      }
    }
    return { version: '1.0.0', engine: 'chronus', schema_version: '1.0', modules, registered_routes: routes };
  }
}

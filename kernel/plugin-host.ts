/**
 * The plugin host (control thread): discovers plugin folders, validates manifests, bundles and checks
 * each plugin off the audio thread, registers its schema and routes, and hands the code to the audio
 * thread. One plugin's failure is reported and never stops the others from loading.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { API_VERSION, type PluginDefinition } from '../plugin-sdk/types.ts';
import type { TapInfo } from './audio-engine.ts';
import type { AudioHost } from './audio-host.ts';
import { TapRing } from './tap-ring.ts';
import type { Config } from './config.ts';
import { ChronusError, ErrorCode, formatZodIssues } from './errors.ts';
import { expandModules, readManifest, type Manifest } from './manifest.ts';
import type { OscRouter } from './osc-router.ts';
import type { ParamControl } from './param-control.ts';
import { mapModuleRoutes, unmapModuleRoutes } from './param-routes.ts';
import { paramTableSchema } from './param-table.ts';
import { bundlePlugin } from './plugin-bundler.ts';
import { evaluatePlugin } from './plugin-runtime.ts';
import type { ModuleEntry, SchemaRegistry } from './schema-registry.ts';
import type { SlotSpec } from './slot-spec.ts';

export interface LoadedPlugin {
  manifest: Manifest;
  folder: string;
  modules: string[];
  definition: PluginDefinition;
  slotId: number;
  /** Files the bundle read (what the watcher should follow). */
  inputs: string[];
  /** Tap rings the instance opened, readable on this thread. */
  taps: Map<string, TapRing>;
}

export interface PluginEvents {
  loaded(plugin: LoadedPlugin): void;
  failed(folder: string, error: Error): void;
  unloaded(pluginId: string): void;
}

export class PluginHost {
  readonly loaded = new Map<string, LoadedPlugin>();
  private nextSlotId = 1;

  constructor(
    private readonly config: Config,
    private readonly registry: SchemaRegistry,
    private readonly router: OscRouter,
    private readonly control: ParamControl,
    private readonly audio: AudioHost,
    private readonly events: PluginEvents,
  ) {}

  get pluginsDir(): string {
    return this.config.paths.plugins;
  }

  /** Load every enabled plugin folder; failures are reported through `events.failed`. */
  async loadAll(): Promise<void> {
    const entries = await readdir(this.pluginsDir, { withFileTypes: true });
    for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const folder = path.join(this.pluginsDir, e.name);
      try {
        await this.load(folder);
      } catch (error) {
        this.events.failed(folder, error as Error);
      }
    }
  }

  enabled(manifest: Manifest): boolean {
    return this.config.plugins[manifest.id]?.enabled ?? manifest.enabled;
  }

  /** Load (or reload) the plugin in `folder`. Throws a coded error; the previous version stays in force. */
  async load(folder: string): Promise<LoadedPlugin | undefined> {
    const label = path.relative(path.dirname(this.pluginsDir), path.join(folder, 'plugin.json'));
    const manifest = await readManifest(folder, API_VERSION, label);
    const previous = [...this.loaded.values()].find((p) => p.folder === folder);
    if (previous && previous.manifest.id !== manifest.id) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `${label}: id changed from "${previous.manifest.id}" to "${manifest.id}"`, {
        hint: 'A plugin id never changes; make a new folder for a new plugin.',
      });
    }
    if (!this.enabled(manifest)) {
      if (previous) await this.unload(manifest.id);
      return undefined;
    }
    const modules = expandModules(manifest, { numVoices: this.config.engine.numVoices });
    this.checkModuleConflicts(manifest, modules, label);

    let definition: PluginDefinition;
    let bundle: Awaited<ReturnType<typeof bundlePlugin>>;
    try {
      bundle = await bundlePlugin(folder, manifest.entry);
      definition = evaluatePlugin(bundle.code, path.join(folder, manifest.entry));
    } catch (error) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" failed to build: ${(error as Error).message}`, { cause: error });
    }
    const table = paramTableSchema.safeParse(definition.params);
    if (!table.success) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" declares an invalid parameter table:`, {
        details: formatZodIssues(table.error, `${manifest.id} params`, definition.params),
      });
    }

    const group = Array.isArray(manifest.modules) ? null : manifest.modules.pattern.replace('{n}', '');
    const oldModules = (previous?.modules ?? []).map((id) => this.registry.modules.get(id)).filter((m) => m !== undefined);
    const registered = this.registry.register(manifest.id, group, modules, definition.params, definition.gates === true);
    const slotId = this.nextSlotId++;
    const spec: SlotSpec = {
      slotId,
      pluginId: manifest.id,
      version: manifest.version,
      role: manifest.role,
      order: manifest.order,
      bus: manifest.bus,
      code: bundle.code,
      filename: path.join(folder, manifest.entry),
      modules,
      params: registered.params,
      gates: registered.gates,
      config: this.pluginConfig(manifest.id),
    };
    let tapInfos: TapInfo[];
    try {
      tapInfos = await this.audio.call('load', spec);
    } catch (error) {
      if (previous) this.registry.register(previous.manifest.id, group, previous.modules, previous.definition.params, previous.definition.gates === true);
      else this.registry.unregister(manifest.id);
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" failed to start on the audio thread: ${(error as Error).message}`, { cause: error });
    }
    // Send the remembered base values so a new instance starts where the old one was.
    for (const p of registered.params) this.control.set(p.index, this.registry.values[p.index]);
    this.mapRoutes(manifest, modules, definition, previous, oldModules);
    const taps = new Map(tapInfos.map((t) => [t.name, new TapRing(t.buffer, 0, t.channels)]));
    const plugin: LoadedPlugin = { manifest, folder, modules, definition, slotId, inputs: bundle.inputs, taps };
    this.loaded.set(manifest.id, plugin);
    this.events.loaded(plugin);
    return plugin;
  }

  async unload(pluginId: string): Promise<void> {
    const plugin = this.loaded.get(pluginId);
    if (!plugin) return;
    await this.audio.call('unload', pluginId);
    for (const id of plugin.modules) {
      const m = this.registry.modules.get(id);
      if (m) unmapModuleRoutes(this.router, m);
    }
    for (const r of plugin.definition.routes ?? []) this.router.unmapRoute(r.address);
    for (const alias of Object.keys(plugin.manifest.aliases ?? {})) {
      this.router.unalias(`/mod/${alias}/`);
      this.router.unalias(`/gate/${alias}`);
    }
    this.registry.unregister(pluginId);
    this.loaded.delete(pluginId);
    this.events.unloaded(pluginId);
  }

  private pluginConfig(id: string): Record<string, unknown> {
    const { enabled: _enabled, ...rest } = this.config.plugins[id] ?? {};
    return rest;
  }

  private checkModuleConflicts(manifest: Manifest, modules: string[], label: string): void {
    for (const id of modules) {
      const owner = this.registry.modules.get(id)?.pluginId;
      if (owner && owner !== manifest.id) {
        throw new ChronusError(ErrorCode.PLUGIN_MODULE_CONFLICT, `${label}: module "${id}" is provided by both "${owner}" and "${manifest.id}"`, {
          hint: `Rename the module in one of the two manifests, or disable one plugin with plugins.${manifest.id}.enabled = false.`,
        });
      }
    }
  }

  private mapRoutes(manifest: Manifest, modules: string[], definition: PluginDefinition, previous: LoadedPlugin | undefined, oldModules: ModuleEntry[]): void {
    for (const r of previous?.definition.routes ?? []) this.router.unmapRoute(r.address);
    for (const m of oldModules) unmapModuleRoutes(this.router, m);
    for (const id of modules) {
      const m = this.registry.modules.get(id);
      if (m) mapModuleRoutes(this.router, this.control, m);
    }
    for (const [alias, target] of Object.entries(manifest.aliases ?? {})) {
      this.router.alias(`/mod/${alias}/`, `/mod/${target}/`);
      this.router.alias(`/gate/${alias}`, `/gate/${target}`);
    }
    for (const r of definition.routes ?? []) {
      this.router.mapRoute(
        r.address,
        async (args, ctx) => {
          const result = await this.audio.call('command', manifest.id, r.address, args);
          if (r.reply && result !== undefined) ctx.replyJson(r.reply, result);
        },
        { args: r.args, description: r.description },
      );
    }
  }
}

/**
 * The plugin host (control thread): discovers plugin folders, validates manifests, bundles and checks
 * each plugin off the audio thread, registers its schema and routes, and hands the code to the audio
 * thread. One plugin's failure is reported and never stops the others from loading.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { API_VERSION, type ParamTable, type PluginDefinition } from '../../plugin-sdk/types.ts';
import type { LoadResult } from '../audio/audio-engine.ts';
import { AudioStoppedError, type AudioHost } from '../host/audio-host.ts';
import { TapRing } from '../audio/tap-ring.ts';
import { Slot } from '../audio/shared-state.ts';
import { PluginStager, StagingError } from './plugin-staging.ts';
import type { TrialRequest } from './plugin-trial.ts';
import { locateError, sourceMapOf, type PluginSourceMap } from './source-map.ts';
import type vm from 'node:vm';
import type { ControlDefinition } from '../../plugin-sdk/control.ts';
import type { LegacyReader } from '../../plugin-sdk/legacy.ts';
import type { Config } from '../base/config.ts';
import { ChronusError, ErrorCode, formatZodIssues, PARSE_ONCE } from '../base/errors.ts';
import { expandModules, readManifest, type Manifest } from './manifest.ts';
import type { OscRouter } from '../osc/osc-router.ts';
import type { ParamControl } from '../params/param-control.ts';
import { mapModuleRoutes, unmapModuleRoutes } from '../params/param-routes.ts';
import { paramTableSchema } from '../params/param-table.ts';
import { BundleContexts, bundlePlugin } from './plugin-bundler.ts';
import { declaredSendBuses, declaresSend, feedsExactly, removalNotices, withSends } from './send-buses.ts';
import { evaluateControl, evaluatePlugin } from './plugin-runtime.ts';
import { codeCacheFor } from './code-cache.ts';
import { LoadAhead, outcomeOf, valueOf, type Outcome, type Prepared } from './load-ahead.ts';
import { inPlugin } from './breadcrumb.ts';
import { ControlHalves, type ControlPorts, type ControlVersion } from './control-halves.ts';
import { routerAliases } from './plugin-aliases.ts';
import { AbsentRoutes } from './absent-routes.ts';
import type { ModuleEntry, SchemaRegistry } from '../params/schema-registry.ts';
import type { SlotSpec } from '../audio/slot-spec.ts';
import { debuglog } from 'node:util';
import { StepTimes } from '../base/step-times.ts';

/** Whether a trial of `a` with `aValues` tries what one of `b` with `bValues` would. */
function sameTrial(a: SlotSpec, aValues: [number, number][], b: SlotSpec, bValues: [number, number][]): boolean {
  const key = (s: SlotSpec, values: [number, number][]) => JSON.stringify([{ ...s, code: s.code.length }, values]);
  return a.code === b.code && key(a, aValues) === key(b, bValues);
}

/** NODE_DEBUG=chronus:plugins: how long each step of a load took. */
const trace = debuglog('chronus:plugins');


export interface LoadOptions {
  keepControl?: boolean;
  current?: () => boolean;
}

export interface LoadedPlugin {
  manifest: Manifest;
  folder: string;
  modules: string[];
  definition: PluginDefinition;
  /** Its modules' parameters: the definition's table and, for a source that takes sends, the generated `send/<bus>` levels. */
  params: ParamTable;
  slotId: number;
  /** Files the bundle read (what the watcher should follow). */
  inputs: string[];
  /** Tap rings the instance opened, readable on this thread. */
  taps: Map<string, TapRing>;
  /** The plugin's level meters (e.g. a peak per voice), or null. */
  meters: Float32Array | null;
  /** Maps errors in the bundle back to the plugin's files and lines. */
  sourceMap: PluginSourceMap | null;
  /** The version this one replaced, until the audio thread's watch on the new one is over. */
  previous: LoadedPlugin | null;
  /** What the audio thread was given (a fresh audio thread after a hang is given it again). */
  spec: SlotSpec;
  /** The control half's bundle text (null: the plugin has none), to tell an edit of it from one of the audio half. */
  controlCode: string | null;
}

/** What every loaded plugin has, with an audio half or only a control half. */
export interface PluginSummary {
  manifest: Manifest;
  folder: string;
  /** Module ids (none for a control-only plugin). */
  modules: readonly string[];
  inputs: string[];
}

/** A control half bundled and evaluated, not started yet. */
interface PreparedControl {
  code: string;
  inputs: string[];
  filename: string;
  sourceMap: PluginSourceMap | null;
  definition: ControlDefinition;
  realm: vm.Context;
}

/** A plugin kept out of the audio thread after it hung it; its routes stay, a fixed file brings it back. */
export interface Quarantine {
  reason: string;
  /** Wall-clock ms since the epoch. */
  since: number;
}

export interface PluginEvents {
  loaded(plugin: PluginSummary, reloaded: boolean, ms: number): void;
  /** Something the user should know that is not an error (a parameter dropped by a new version). */
  notice(pluginId: string, message: string): void;
  failed(folder: string, error: Error): void;
  unloaded(pluginId: string): void;
  /** A line a control half logged (rate-limited by the receiver). */
  log(pluginId: string, level: 'info' | 'warn' | 'error', text: string): void;
  /** An engine-wide notice a control half sends to every client. */
  broadcast(address: string, args: readonly unknown[]): void;
  /** The whole engine as a control half sees it (kernel/engine/engine-view.ts). */
  engineView: ControlPorts['engineView'];
}

export class PluginHost {
  /** Loaded plugins with an audio half, by id. */
  readonly loaded = new Map<string, LoadedPlugin>();
  /** Loaded plugins that have only a control half, by id. */
  readonly controlOnly = new Map<string, PluginSummary>();
  /** Loaded plugins the audio thread runs without (they hung it): by id. */
  readonly quarantined = new Map<string, Quarantine>();
  /** Versions the audio thread rolled back, kept to say where they failed. */
  private readonly rolledBackVersions = new Map<number, LoadedPlugin>();
  private nextSlotId = 1;
  /** While `loadAll` runs: the sources that take sends are brought up to date once, at its end. */
  private deferSendSync = false;
  /** esbuild contexts for edited plugins (rebuilt incrementally); disposed when the engine stops. */
  readonly bundles = new BundleContexts();
  /** The control halves of the loaded plugins (kernel/plugins/control-halves.ts). */
  readonly controls: ControlHalves;
  /** Declared routes of plugins that are disabled or failed to load, answering how to turn them on. */
  private readonly absent: AbsentRoutes;
  /**
   * Plugins kept out of this start because the last engine died or froze in their control half
   * (cli/supervisor.ts), with why; `seen` once the start passed them over. Each loads again when its
   * files change.
   */
  private readonly heldOut = new Map<string, { reason: string; seen: boolean }>();
  /** Told when a plugin held out at start loads again. */
  onHeldOutLoaded: ((id: string) => void) | null = null;
  constructor(
    private config: Config,
    private readonly registry: SchemaRegistry,
    private readonly router: OscRouter,
    private readonly control: ParamControl,
    private readonly audio: AudioHost,
    private readonly events: PluginEvents,
    /** Evaluates and tries every new version off this thread and off the audio thread. */
    readonly stager: PluginStager = new PluginStager({ timeoutMs: config.engine.trialTimeoutMs, memoryMb: config.engine.pluginMemoryMb }),
  ) {
    this.absent = new AbsentRoutes(router);
    this.controls = new ControlHalves({
      router,
      sampleRate: audio.sampleRate,
      blockSize: audio.blockSize,
      realtime: audio.backend !== 'offline',
      numVoices: config.engine.numVoices,
      callMs: config.engine.controlCallMs,
      startWaitMs: 2 * config.engine.trialTimeoutMs,
      command: (id, name, args) => this.audio.call('command', id, name, args),
      share: (id, name, value) => this.share(id, name, value),
      tap: (id, name) => this.loaded.get(id)?.taps.get(name),
      reloadAudio: (id) => this.reloadAudio(id),
      audioLive: (id) => this.loaded.has(id) && !this.quarantined.has(id),
      log: (id, level, text) => events.log(id, level, text),
      broadcast: (address, args) => events.broadcast(address, args),
      engineView: (owner) => events.engineView(owner),
      allow: config.osc.allow,
    });
  }

  /**
   * Plugin `id`'s control half publishes a value for its audio half: kept with the spec (a reload, a
   * reset or a fresh audio thread gets it too) and handed to the running instance.
   */
  private async share(id: string, name: string, value: unknown): Promise<void> {
    const p = this.loaded.get(id);
    if (!p) return;
    p.spec.shared = { ...p.spec.shared, [name]: value };
    if (this.quarantined.has(id)) return;
    await this.audio.call('share', id, name, value);
    this.primeStandby();
  }

  /** New `plugins.<id>` settings from a changed config (the watcher then reloads what they affect). */
  setPluginConfig(plugins: Config['plugins']): void {
    this.config = { ...this.config, plugins };
    // Every control half, those of control-only plugins (viz, web) too.
    for (const id of [...this.loaded.keys(), ...this.controlOnly.keys()]) if (this.controls.has(id)) this.controls.configChanged(id, this.pluginConfig(id));
  }

  /** Plugin `id`'s config section as it is now (config/local.json may have changed while running). */
  configOf(id: string): Config['plugins'][string] | undefined {
    return this.config.plugins[id];
  }

  /** The folder of plugin `id`: loaded, or found by reading the manifests (a disabled plugin). */
  folderOf(id: string): string | undefined {
    const loaded = (this.loaded.get(id) ?? this.controlOnly.get(id))?.folder;
    if (loaded) return loaded;
    for (const name of readdirSync(this.pluginsDir)) {
      try {
        const m = JSON.parse(readFileSync(path.join(this.pluginsDir, name, 'plugin.json'), 'utf8')) as { id?: unknown };
        if (m.id === id) return path.join(this.pluginsDir, name);
      } catch {
        // Not a plugin folder, or a manifest that its own load will report.
      }
    }
    return undefined;
  }

  get pluginsDir(): string {
    return this.config.paths.plugins;
  }

  /** Keep plugin `id` out of the start to come (before `loadAll`); it loads when its files change. */
  holdOut(id: string, reason: string): void {
    this.heldOut.set(id, { reason, seen: false });
  }

  /**
   * Loads every enabled plugin folder (failures are reported through `events.failed`): the audio
   * halves one by one, then `audioIn` (the engine starts its clock) runs while the control halves
   * start. Resolves when both are done; rejects with `audioIn`'s failure.
   */
  async loadAll(audioIn?: () => Promise<void>): Promise<void> {
    const entries = await readdir(this.pluginsDir, { withFileTypes: true });
    const folders = entries.filter((d) => d.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((d) => path.join(this.pluginsDir, d.name));
    // Control halves start once every audio half is in: each sees the whole engine from its create.
    this.deferredControls = [];
    this.deferSendSync = true;
    try {
      // Send plugins first: the sources after them get every send at once, not by a reload.
      const ordered = [...folders.filter(declaresSend), ...folders.filter((f) => !declaresSend(f))];
      // A real-time audio thread starts meanwhile: what the loads need of this thread is done ahead.
      if (this.audio.backend !== 'offline') this.ahead.start(ordered, (folder) => this.prepareAhead(folder));
      for (const folder of ordered) {
        try {
          await this.load(folder);
        } catch (error) {
          this.events.failed(folder, error as Error);
        }
      }
    } finally {
      this.deferSendSync = false;
      this.ahead.clear();
    }
    await this.syncSends();
    // The audio thread warms the audio halves up while the control halves start here.
    this.audio.warmUp?.();
    const deferred = this.deferredControls;
    this.deferredControls = null;
    this.startingControls = new Set(deferred.map((d) => d.id));
    const playing = Promise.resolve(audioIn?.());
    // Awaited below: until then its failure must not count as unhandled.
    playing.catch(() => undefined);
    for (const { folder, id, start } of deferred) {
      try {
        await start();
      } catch (error) {
        this.events.failed(folder, error as Error);
      }
      this.startingControls.delete(id);
    }
    await playing;
  }

  /** Which code caches this engine's evaluations use (kernel/plugins/code-cache.ts). */
  private get engineKind(): 'offline' | 'real-time' {
    return this.audio.backend === 'offline' ? 'offline' : 'real-time';
  }

  /** While `loadAll` runs: each folder's manifest, bundles and evaluated halves, prepared ahead of its load. */
  private readonly ahead = new LoadAhead<PreparedControl>();

  /** `loadAll`'s preparation of a folder's load (kernel/plugins/load-ahead.ts): the steps its load would take before the audio thread. */
  private async prepareAhead(folder: string): Promise<Prepared<PreparedControl>> {
    const manifest = await readManifest(folder, API_VERSION, path.relative(path.dirname(this.pluginsDir), path.join(folder, 'plugin.json')));
    if (!this.enabled(manifest) || this.heldOut.has(manifest.id)) return { manifest, bundle: null, definition: null, control: null };
    const staged = this.config.engine.stageSeconds > 0;
    const entry = manifest.entry;
    const bundle = entry === undefined ? null : await bundlePlugin(folder, entry, this.bundles);
    const definition =
      bundle && entry !== undefined
        ? await outcomeOf(async () => {
            const filename = path.join(folder, entry);
            if (staged) await this.stager.evaluate(bundle.code, filename);
            return evaluatePlugin(bundle.code, filename, codeCacheFor(bundle.code, filename, this.engineKind));
          })
        : null;
    const control = manifest.control === undefined ? null : await outcomeOf(() => this.prepareControl(manifest, folder, staged));
    return { manifest, bundle, definition, control };
  }

  /** While `loadAll` runs: control halves to start after every plugin's audio half. */
  private deferredControls: { folder: string; id: string; start: () => Promise<void> }[] | null = null;
  /** Plugins whose control half `loadAll` has yet to start. */
  private startingControls = new Set<string>();

  /** Whether plugin `id`'s control half is still to start (`loadAll` starts them while the clock runs). */
  controlStarting(id: string): boolean {
    return this.startingControls.has(id);
  }

  enabled(manifest: Manifest): boolean {
    return this.config.plugins[manifest.id]?.enabled ?? manifest.enabled;
  }

  /**
   * Load (or reload) the plugin in `folder`. Throws a coded error; the previous version stays in force.
   * `keepControl`: the running control half stays as it is (it asked for its audio half to be made again).
   * `current`: asked just before the new version goes live; false (its files changed since) abandons it.
   */
  async load(folder: string, options: LoadOptions = {}): Promise<LoadedPlugin | undefined> {
    const began = performance.now();
    const label = path.relative(path.dirname(this.pluginsDir), path.join(folder, 'plugin.json'));
    const ahead = await this.ahead.take(folder);
    const manifest = ahead?.manifest ?? (await readManifest(folder, API_VERSION, label));
    const previous = [...this.loaded.values()].find((p) => p.folder === folder);
    const before = this.inFolder(folder);
    if (before && before.manifest.id !== manifest.id) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `${label}: id changed from "${before.manifest.id}" to "${manifest.id}"`, {
        hint: 'A plugin id never changes; make a new folder for a new plugin.',
      });
    }
    this.checkIdUnique(manifest, folder, label);
    if (!this.enabled(manifest)) {
      if (before) await this.unload(manifest.id);
      this.absent.stand(manifest, folder, 'disabled');
      return undefined;
    }
    const held = this.heldOut.get(manifest.id);
    if (held !== undefined) {
      if (!held.seen) {
        held.seen = true;
        const why = `kept out of this start: ${held.reason}; save a fix to its files to load it`;
        this.absent.stand(manifest, folder, 'not-loaded', why);
        throw new ChronusError(ErrorCode.PLUGIN_HELD_OUT, `plugin "${manifest.id}" was ${why}`);
      }
      this.heldOut.delete(manifest.id);
      this.onHeldOutLoaded?.(manifest.id);
    }
    const staged = this.config.engine.stageSeconds > 0;
    try {
      if (manifest.entry === undefined) {
        await this.loadControlOnly(manifest, folder, staged, began, ahead?.control ?? null);
        return undefined;
      }
      const keepControl = options.keepControl === true && this.controls.has(manifest.id);
      return await this.loadEnabled(folder, manifest, manifest.entry, previous, label, began, staged, keepControl, options.current, ahead);
    } catch (error) {
      if (!this.loaded.has(manifest.id) && !this.controlOnly.has(manifest.id)) this.absent.stand(manifest, folder, 'not-loaded');
      throw error;
    }
  }

  /** The plugin folder `folder` is gone: what stood in for its routes goes too. */
  forget(folder: string): void {
    this.absent.forgetFolder(folder);
    void this.bundles.forget(folder);
  }

  /** Plugin `id`'s control half asks for its audio half to be made again with the config as it is now (`ctx.audio.reload`). */
  private async reloadAudio(id: string): Promise<void> {
    const p = this.loaded.get(id);
    if (!p) throw new ChronusError(ErrorCode.PLUGIN_UNKNOWN, `plugin ${id} is not loaded`);
    await this.load(p.folder, { keepControl: true });
  }

  private async loadEnabled(
    folder: string,
    manifest: Manifest,
    entry: string,
    previous: LoadedPlugin | undefined,
    label: string,
    began: number,
    staged: boolean,
    keepControl: boolean,
    current: LoadOptions['current'],
    ahead: Prepared<PreparedControl> | null = null,
  ): Promise<LoadedPlugin> {
    if (this.controlOnly.has(manifest.id)) this.controlOnly.delete(manifest.id);
    const steps = new StepTimes(began);
    const modules = expandModules(manifest, { numVoices: this.config.engine.numVoices });
    this.checkModuleConflicts(manifest, modules, label);

    let definition: PluginDefinition;
    let bundle: Awaited<ReturnType<typeof bundlePlugin>>;
    // A reload's caches (its bundle, its code) are written after its swap (a fresh load's at once: a render may end right after).
    const cacheWrites: (() => void)[] = [];
    const later = previous ? (write: () => void) => cacheWrites.push(write) : undefined;
    try {
      bundle = ahead?.bundle ?? (await bundlePlugin(folder, entry, this.bundles, later));
      steps.mark('bundle');
    } catch (error) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" failed to build: ${(error as Error).message}`, { cause: error });
    }
    const control = manifest.control === undefined || keepControl ? null : ahead?.control ? valueOf(ahead.control) : await this.prepareControl(manifest, folder, staged);
    if (control && previous && this.audioUnchanged(previous, manifest, bundle.code, modules)) {
      // Only the control half changed: the audio half plays on untouched.
      await this.startControl(manifest, folder, modules, control);
      Object.assign(previous, { manifest, inputs: [...bundle.inputs, ...control.inputs], controlCode: control.code });
      this.events.loaded(previous, true, performance.now() - began);
      return previous;
    }
    // The running version's state for the trial, asked for now: the audio thread answers while the new version is evaluated.
    const stateForTrial = staged && previous ? this.audio.call('getState', manifest.id, 'reload') : undefined;
    stateForTrial?.catch(() => undefined);
    // The module's top level runs in the trial thread (the standby) first: a loop there must not hang this thread
    // (at a start, done already where the load was prepared ahead).
    const staging = staged && !ahead?.definition ? this.stager.evaluate(bundle.code, path.join(folder, entry)) : undefined;
    let refused = false;
    staging?.catch(() => (refused = true));
    // An edit seldom changes the parameters, modules or sends: right after evaluating it the worker
    // tries the version as the running one's spec, while this thread evaluates it too.
    // Its slot id now: the thread that tries a version keeps its definition under that id (a standby's prime).
    const slotId = this.nextSlotId++;
    const guess = previous && stateForTrial ? { spec: { ...previous.spec, slotId, ...this.specOf(manifest, bundle.code, path.join(folder, entry), modules) }, values: this.valuesOf(previous.spec) } : null;
    const early = guess && stateForTrial!.then((state) => (refused ? Promise.reject(new StagingError('refused')) : this.stager.trial(this.trialOf(guess.spec, guess.values, state))));
    early?.catch(() => undefined);
    let prepared = false;
    try {
      if (ahead?.definition) definition = valueOf(ahead.definition);
      else {
        await staging;
        if (staging) {
          // Passed in the standby: the audio thread evaluates it too, on its own CPU, while this thread does.
          this.audio.prepare?.({ slotId, pluginId: manifest.id, code: bundle.code, filename: path.join(folder, entry) });
          prepared = true;
        }
        definition = evaluatePlugin(bundle.code, path.join(folder, entry), codeCacheFor(bundle.code, path.join(folder, entry), this.engineKind, later));
      }
      steps.mark('evaluate');
    } catch (error) {
      const where = locateError(String((error as Error)?.stack ?? error), path.join(folder, entry), sourceMapOf(bundle.code), folder);
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" failed to load: ${where ? `${where}: ` : ''}${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    this.checkAliasConflicts(manifest, definition, label);
    const table = paramTableSchema.safeParse(definition.params, PARSE_ONCE);
    if (!table.success) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" declares an invalid parameter table:`, {
        details: formatZodIssues(table.error, `${manifest.id} params`, definition.params),
      });
    }

    const group = Array.isArray(manifest.modules) ? null : manifest.modules.pattern.replace('{n}', '');
    const oldModules = (previous?.modules ?? []).map((id) => this.registry.modules.get(id)).filter((m) => m !== undefined);
    const defaultsProblems = checkModuleDefaults(definition, modules);
    if (defaultsProblems.length > 0) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" declares invalid moduleDefaults:`, {
        details: defaultsProblems,
        hint: 'Each entry must name a module of plugin.json and a parameter of the table, with a value within its range.',
      });
    }
    const { table: params, sends } = withSends(manifest, definition, declaredSendBuses(this.loaded.values()));
    const registered = this.registry.register(manifest.id, group, modules, params, definition.gates === true, definition.moduleDefaults);
    const spec: SlotSpec = {
      slotId,
      pluginId: manifest.id,
      ...this.specOf(manifest, bundle.code, path.join(folder, entry), modules),
      params: registered.params,
      gates: registered.gates,
      follows: Object.entries(definition.gateFollows ?? {}).map(([m, source]) => ({ module: modules.indexOf(m), source })).filter((f) => f.module >= 0),
      // What the control half published stays published across a reload of the audio half.
      shared: previous?.spec.shared,
      ...(sends === undefined ? {} : { sends }),
    };
    let opened: LoadResult;
    const sourceMap = sourceMapOf(bundle.code);
    try {
      if (staged) {
        // The audio thread evaluates the version while it is tried: its load then only creates it.
        if (!prepared) this.audio.prepare?.(spec);
        const values = this.valuesOf(spec);
        const guessed = guess !== null && sameTrial(guess.spec, guess.values, spec, values);
        await (guessed ? early! : this.stager.trial(this.trialOf(spec, values, await stateForTrial)));
        steps.mark('trial');
      }
      if (current && !current()) throw new Error('its files changed while it loaded; the newer save loads next');
      opened = await this.audio.call('load', spec);
      steps.mark('live');
      steps.note('lead', this.leadMs(opened.frame));
    } catch (error) {
      if (previous) this.registry.register(previous.manifest.id, group, previous.modules, previous.params, previous.definition.gates === true, previous.definition.moduleDefaults);
      else this.registry.unregister(manifest.id);
      const where = locateError(String((error as Error)?.stack ?? error), spec.filename, sourceMap, folder);
      const first = (error as Error).message.split('\n')[0];
      const stage = error instanceof StagingError ? 'was refused before going live' : 'failed to start on the audio thread';
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}" ${stage}: ${where ? `${where}: ` : ''}${first}`, { cause: error });
    }
    // The plugin's own routes come now: what stood in for them steps aside.
    this.absent.clear(manifest.id);
    this.absent.release(manifest.routes ?? []);
    // Send the remembered base values so a new instance starts where the old one was.
    for (const p of registered.params) this.control.set(p.index, this.registry.values[p.index]);
    this.mapRoutes(manifest, modules, definition, previous, oldModules);
    const taps = new Map(opened.taps.map((t) => [t.name, new TapRing(t.buffer, 0, t.channels)]));
    const meters = opened.meters ? new Float32Array(opened.meters) : null;
    // A quarantined version is no fallback for the one that replaces it.
    const fallback = previous && !this.quarantined.has(manifest.id) ? previous : null;
    const kept = keepControl && previous ? previous : null;
    const inputs = control ? [...bundle.inputs, ...control.inputs] : kept ? [...new Set([...bundle.inputs, ...kept.inputs])] : bundle.inputs;
    const controlCode = control?.code ?? kept?.controlCode ?? null;
    const plugin: LoadedPlugin = { manifest, folder, modules, definition, params, slotId, inputs, taps, meters, sourceMap, previous: fallback, spec, controlCode };
    if (previous) previous.previous = null;
    this.loaded.set(manifest.id, plugin);
    this.quarantined.delete(manifest.id);
    this.primeStandby();
    if (control) await this.startControl(manifest, folder, modules, control);
    else if (!kept && this.controls.has(manifest.id)) await this.controls.unload(manifest.id);
    for (const notice of removalNotices(registered.removed, previous?.spec.sends, sends, manifest.version)) this.events.notice(manifest.id, notice);
    trace('%s %s: %s (began at %s)', manifest.id, previous ? 'reloaded' : 'loaded', steps.done(), (performance.timeOrigin + began).toFixed(1));
    if (cacheWrites.length > 0) setImmediate(() => cacheWrites.forEach((write) => write()));
    this.events.loaded(plugin, previous !== undefined, performance.now() - began);
    if (manifest.role === 'send' || previous?.manifest.role === 'send') await this.syncSends();
    return plugin;
  }

  /** What a version's spec takes from its manifest, bundle and config (the rest comes from its definition). */
  private specOf(manifest: Manifest, code: string, filename: string, modules: string[]): Omit<SlotSpec, 'slotId' | 'pluginId' | 'params' | 'gates' | 'follows'> {
    const { version, role, order, bus } = manifest;
    return { version, role, order, bus, code, filename, modules, config: this.pluginConfig(manifest.id), numVoices: this.config.engine.numVoices };
  }

  /** The live base values of a spec's parameters, by index. */
  private valuesOf(spec: SlotSpec): [number, number][] {
    return spec.params.map((p): [number, number] => [p.index, this.registry.values[p.index]]);
  }

  private trialOf(spec: SlotSpec, values: [number, number][], state: unknown): Omit<TrialRequest, 'memoryMb'> {
    const { sampleRate, blockSize } = this.audio;
    return { spec, state, values, sampleRate, blockSize, smoothingMs: this.config.engine.smoothingMs, seconds: this.config.engine.stageSeconds };
  }

  /** How long after now the block starting at `frame` is heard (0 while the clock is not running). */
  private leadMs(frame: number): number {
    const v = this.audio.shared.values;
    if (v[Slot.Running] !== 1) return 0;
    return v[Slot.AnchorWallMs] + ((frame - v[Slot.AnchorFrame]) * 1000) / this.audio.sampleRate - (performance.timeOrigin + performance.now());
  }

  /**
   * Every loaded source that takes sends is reloaded (the ordinary hot reload: state handed over,
   * crossfaded; a control half it has keeps running) unless it already feeds exactly the send buses
   * declared now; a failure is reported and the source keeps playing with the sends it had.
   */
  private async syncSends(): Promise<void> {
    if (this.deferSendSync) return;
    const buses = declaredSendBuses(this.loaded.values());
    for (const p of [...this.loaded.values()]) {
      // A quarantined source comes back when its files change, with the buses of that moment.
      if (p.spec.sends === undefined || feedsExactly(p.spec.sends, buses) || this.quarantined.has(p.manifest.id)) continue;
      try {
        await this.load(p.folder, { keepControl: true });
      } catch (error) {
        this.events.failed(p.folder, error as Error);
      }
    }
  }

  /** The audio thread rolled `slotId` back to the version before it: make that version current again here. */
  rolledBack(slotId: number): LoadedPlugin | undefined {
    const failed = [...this.loaded.values()].find((p) => p.slotId === slotId);
    if (!failed?.previous) return undefined;
    this.loaded.set(failed.manifest.id, failed.previous);
    this.rolledBackVersions.set(slotId, failed);
    return failed;
  }

  /** The loaded version (or the one it replaced, still under watch) with this slot id. */
  bySlot(slotId: number): LoadedPlugin | undefined {
    for (const p of this.loaded.values()) {
      if (p.slotId === slotId) return p;
      if (p.previous?.slotId === slotId) return p.previous;
    }
    return undefined;
  }

  /**
   * Plugin `pluginId` hung the audio thread. If it was a new version still under watch, the version it
   * replaced becomes current again; otherwise it is quarantined. Returns what was done, for the report.
   */
  contain(pluginId: string, reason: string): string {
    const p = this.loaded.get(pluginId);
    if (!p) return 'gone';
    if (p.previous) {
      this.loaded.set(pluginId, p.previous);
      this.rolledBackVersions.set(p.slotId, p);
      return `rolled back to version ${p.previous.manifest.version}`;
    }
    this.quarantined.set(pluginId, { reason, since: Date.now() });
    return 'quarantined until its files change';
  }

  /** Tells the audio host which versions are live now (it may keep a standby thread primed with them). */
  private primeStandby(): void {
    this.audio.prime?.([...this.loaded.values()].filter((p) => !this.quarantined.has(p.manifest.id)).map((p) => p.spec));
  }

  /**
   * Put every loaded plugin but the quarantined ones into a fresh audio thread, with `states` (by id)
   * handed to them; the taps and meters they open replace the old ones.
   */
  async reinstate(states: ReadonlyMap<string, unknown>): Promise<void> {
    for (const p of this.loaded.values()) {
      p.previous = null;
      if (this.quarantined.has(p.manifest.id)) continue;
      try {
        const opened = await this.audio.call('load', p.spec);
        p.taps = new Map(opened.taps.map((t) => [t.name, new TapRing(t.buffer, 0, t.channels)]));
        p.meters = opened.meters ? new Float32Array(opened.meters) : null;
        const state = states.get(p.manifest.id);
        if (state !== undefined) await this.audio.call('setState', p.manifest.id, state).catch(() => undefined);
      } catch (error) {
        if (error instanceof AudioStoppedError) throw error;
        this.events.failed(p.folder, new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${p.manifest.id}" could not be put back after the audio thread was replaced: ${(error as Error).message.split('\n')[0]}`));
      }
    }
    this.primeStandby();
  }

  /** Where an error from the audio thread happened, in the plugin's own files. */
  locate(slotId: number, stack: string): string | null {
    const p =
      this.rolledBackVersions.get(slotId) ?? [...this.loaded.values()].flatMap((l) => (l.previous ? [l, l.previous] : [l])).find((l) => l.slotId === slotId);
    return p ? locateError(stack, p.spec.filename, p.sourceMap, p.folder) : null;
  }

  async unload(pluginId: string): Promise<void> {
    if (this.controlOnly.delete(pluginId)) {
      await this.controls.unload(pluginId);
      this.events.unloaded(pluginId);
      return;
    }
    const plugin = this.loaded.get(pluginId);
    if (!plugin) return;
    // The control half goes first: it may be reading what the audio half writes.
    await this.controls.unload(pluginId);
    await this.audio.call('unload', pluginId);
    for (const id of plugin.modules) {
      const m = this.registry.modules.get(id);
      if (m) unmapModuleRoutes(this.router, m);
    }
    for (const r of plugin.definition.routes ?? []) this.router.unmapRoute(r.address);
    for (const [from] of routerAliases(plugin.manifest, plugin.definition)) this.router.unalias(from);
    this.registry.unregister(pluginId);
    this.loaded.delete(pluginId);
    void this.bundles.forget(plugin.folder);
    this.primeStandby();
    this.events.unloaded(pluginId);
    if (plugin.manifest.role === 'send') await this.syncSends();
  }

  /** The loaded plugins' `legacy` declarations with their ids, in load order (`ctx.engine.legacyReaders`). */
  legacyReaders(): LegacyReader[] {
    return [...this.loaded].flatMap(([pluginId, p]) => (p.definition.legacy ? [{ pluginId, ...p.definition.legacy }] : []));
  }

  /** The loaded plugin (either kind) in `folder`, if any. */
  inFolder(folder: string): PluginSummary | undefined {
    return [...this.loaded.values(), ...this.controlOnly.values()].find((p) => p.folder === folder);
  }

  /** Every loaded plugin, those with an audio half first. */
  all(): PluginSummary[] {
    return [...this.loaded.values(), ...this.controlOnly.values()];
  }

  private async loadControlOnly(manifest: Manifest, folder: string, staged: boolean, began: number, ahead: Outcome<PreparedControl> | null): Promise<void> {
    const control = ahead ? valueOf(ahead) : await this.prepareControl(manifest, folder, staged);
    // A plugin that lost its audio half: the audio half goes (its control half is replaced below).
    if (this.loaded.has(manifest.id)) await this.unload(manifest.id);
    this.absent.clear(manifest.id);
    this.absent.release(manifest.routes ?? []);
    const reloaded = this.controlOnly.has(manifest.id);
    await this.startControl(manifest, folder, [], control);
    const plugin: PluginSummary = { manifest, folder, modules: [], inputs: control.inputs };
    this.controlOnly.set(manifest.id, plugin);
    this.events.loaded(plugin, reloaded, performance.now() - began);
  }

  /** Bundles and evaluates a control half (its top level tried in the trial thread first). Throws PLUGIN_LOAD_FAILED. */
  private async prepareControl(manifest: Manifest, folder: string, staged: boolean): Promise<PreparedControl> {
    const entry = manifest.control as string;
    const filename = path.join(folder, entry);
    let built: Awaited<ReturnType<typeof bundlePlugin>>;
    try {
      built = await bundlePlugin(folder, entry, this.bundles);
    } catch (error) {
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}": its control half failed to build: ${(error as Error).message}`, { cause: error });
    }
    const sourceMap = sourceMapOf(built.code);
    try {
      if (staged) await this.stager.evaluate(built.code, filename, 'control');
      // Its top level runs here, on the control thread: the supervisor's breadcrumb names it meanwhile.
      const evaluated = inPlugin(manifest.id, () => evaluateControl(built.code, filename, codeCacheFor(built.code, filename, this.engineKind)));
      return { code: built.code, inputs: built.inputs, filename, sourceMap, ...evaluated };
    } catch (error) {
      const where = locateError(String((error as Error)?.stack ?? error), filename, sourceMap, folder);
      throw new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${manifest.id}": its control half failed to load: ${where ? `${where}: ` : ''}${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
  }

  private async startControl(manifest: Manifest, folder: string, modules: readonly string[], c: PreparedControl): Promise<void> {
    if (this.deferredControls) {
      this.deferredControls.push({ folder, id: manifest.id, start: () => this.startControlNow(manifest, folder, modules, c) });
      return;
    }
    await this.startControlNow(manifest, folder, modules, c);
  }

  private async startControlNow(manifest: Manifest, folder: string, modules: readonly string[], c: PreparedControl): Promise<void> {
    const version: ControlVersion = {
      pluginId: manifest.id,
      modules,
      config: this.pluginConfig(manifest.id),
      filesRoot: this.filesRootOf(manifest),
      declaredRoutes: manifest.routes,
      pluginRoot: folder,
      definition: c.definition,
      realm: c.realm,
      locate: (stack) => locateError(stack, c.filename, c.sourceMap, folder),
    };
    await this.controls.start(version);
  }

  /** A control half's folder for files: `paths.<folder>` when configured, else `<paths.data>/<folder or id>`. */
  filesRootOf(manifest: Manifest): string {
    const paths = this.config.paths as Readonly<Record<string, string>>;
    const configured = manifest.folder === undefined ? undefined : paths[manifest.folder];
    return configured ?? path.join(paths.data, manifest.folder ?? manifest.id);
  }

  /** The running audio half is what this load would make (same code, config and modules): a control-only edit. */
  private audioUnchanged(previous: LoadedPlugin, manifest: Manifest, code: string, modules: readonly string[]): boolean {
    return (
      !this.quarantined.has(manifest.id) &&
      previous.spec.code === code &&
      previous.manifest.version === manifest.version &&
      previous.manifest.role === manifest.role &&
      previous.manifest.order === manifest.order &&
      previous.manifest.bus === manifest.bus &&
      JSON.stringify(previous.modules) === JSON.stringify(modules) &&
      JSON.stringify(previous.spec.config) === JSON.stringify(this.pluginConfig(manifest.id))
    );
  }

  private pluginConfig(id: string): Record<string, unknown> {
    const { enabled: _enabled, ...rest } = this.config.plugins[id] ?? {};
    return rest;
  }

  /** A plugin id belongs to one folder: another folder claiming a loaded id is refused, the loaded plugin untouched. */
  private checkIdUnique(manifest: Manifest, folder: string, label: string): void {
    const owner = this.loaded.get(manifest.id) ?? this.controlOnly.get(manifest.id);
    if (!owner || owner.folder === folder) return;
    const rel = (f: string) => path.relative(path.dirname(this.pluginsDir), f);
    throw new ChronusError(ErrorCode.PLUGIN_ID_CONFLICT, `${label}: plugin id "${manifest.id}" is already loaded from ${rel(owner.folder)}; ${rel(folder)} is not loaded`, {
      hint: `A plugin id names one folder. Give the plugin in ${rel(folder)} an id of its own, or remove one of the two folders; the plugin loaded from ${rel(owner.folder)} keeps playing.`,
    });
  }

  /** An old address belongs to one plugin: a second plugin declaring it is refused (the first keeps it). */
  private checkAliasConflicts(manifest: Manifest, definition: PluginDefinition, label: string): void {
    const mine = new Set(routerAliases(manifest, definition).map(([from]) => from));
    for (const other of this.loaded.values()) {
      if (other.manifest.id === manifest.id) continue;
      const taken = routerAliases(other.manifest, other.definition).find(([from]) => mine.has(from));
      if (taken) {
        throw new ChronusError(ErrorCode.PLUGIN_MODULE_CONFLICT, `${label}: the old address ${taken[0]} is declared by both "${other.manifest.id}" and "${manifest.id}"`, {
          hint: `Remove the alias from one of the two manifests (aliases in plugin.json, or gateFollows); "${other.manifest.id}" keeps it meanwhile.`,
        });
      }
    }
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
    // A module that follows another's gates is gated through that module's route only.
    for (const follower of Object.keys(definition.gateFollows ?? {})) this.router.unmapRoute(`/gate/${follower}`);
    for (const [from] of previous ? routerAliases(previous.manifest, previous.definition) : []) this.router.unalias(from);
    for (const [from, to] of routerAliases(manifest, definition)) this.router.alias(from, to);
    for (const r of definition.routes ?? []) {
      this.router.mapRoute(
        r.address,
        async (args, ctx) => {
          const result = await this.audio.call('command', manifest.id, r.address, args);
          if (r.reply && result !== undefined) ctx.replyJson(r.reply, result);
        },
        { args: r.args, description: r.description, usage: r.usage },
      );
    }
  }
}

/** Problems with a definition's `moduleDefaults` (unknown module or parameter, value out of range), one line each. */
function checkModuleDefaults(definition: PluginDefinition, modules: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [module, values] of Object.entries(definition.moduleDefaults ?? {})) {
    if (!modules.includes(module)) problems.push(`moduleDefaults.${module}: not a module of this plugin (${modules.join(', ')})`);
    for (const [name, value] of Object.entries(values ?? {})) {
      const spec = definition.params[name];
      if (!spec) problems.push(`moduleDefaults.${module}.${name}: no such parameter`);
      else if (typeof value !== 'number' || !(value >= spec.min && value <= spec.max)) {
        problems.push(`moduleDefaults.${module}.${name}: expected a number in [${spec.min}, ${spec.max}] (found ${String(value)})`);
      }
    }
  }
  return problems;
}

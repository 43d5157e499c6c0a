/**
 * Control halves of plugins (control thread): creates each version with its context, hands state from
 * the version it replaces to the new one, maps its routes, and closes everything a version held when it
 * is replaced or unloaded. A version that fails to start leaves the one before it running.
 *
 * | step           | when                                   | what                                                  |
 * | -------------- | -------------------------------------- | ----------------------------------------------------- |
 * | `start`        | after the plugin's audio half is live  | create (routes collected, not mapped yet) →           |
 * |                |                                        | old getState → old dispose, closed → routes swapped → |
 * |                |                                        | new setState                                          |
 * | `stopAll`      | `/engine/stop`, shutdown               | every instance's `stop` (files finished)              |
 * | `unload`       | folder removed or disabled             | dispose, closed, routes removed, files closed         |
 */
import path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import type vm from 'node:vm';
import type { z } from 'zod';
import type { ControlContext, ControlDefinition, ControlInstance, ControlRoute, EngineView, TapReader } from '../../plugin-sdk/control.ts';
import type { PluginLogger } from '../../plugin-sdk/types.ts';
import { ChronusError, ErrorCode } from '../base/errors.ts';
import type { OscRouter } from '../osc/osc-router.ts';
import { pluginFiles, pluginFolder } from './control-files.ts';
import { ControlHttp } from './control-http.ts';
import { advertise } from './control-mdns.ts';
import { isThenable } from '../base/is-thenable.ts';
import { VersionResources } from './control-resources.ts';

/** What the control halves need of the engine, and nothing more. */
export interface ControlPorts {
  readonly router: Pick<OscRouter, 'mapRoute' | 'unmapRoute' | 'hasRoute'>;
  readonly sampleRate: number;
  readonly blockSize: number;
  readonly realtime: boolean;
  readonly numVoices: number;
  /** The synchronous part of any call into a control half may take this long. */
  readonly callMs: number;
  /** How long a start (or reload) waits for a control half's `create` before going on without it. */
  readonly startWaitMs: number;
  command(pluginId: string, name: string, args: unknown): Promise<unknown>;
  share(pluginId: string, name: string, value: unknown): Promise<void>;
  tap(pluginId: string, name: string): TapReader | undefined;
  /** Makes plugin `id`'s audio half again with its config as it is now, leaving its control half running. */
  reloadAudio(pluginId: string): Promise<void>;
  audioLive(pluginId: string): boolean;
  log(pluginId: string, level: 'info' | 'warn' | 'error', text: string): void;
  broadcast(address: string, args: readonly unknown[]): void;
  /** The engine view for one version (its listeners closed with it). */
  engineView(owner: VersionResources): EngineView;
  /** Senders let in beyond loopback (config osc.allow): OSC's list, also for `ctx.http`. */
  readonly allow: readonly string[];
}

/** One version of a control half to start. */
export interface ControlVersion {
  pluginId: string;
  modules: readonly string[];
  config: Readonly<Record<string, unknown>>;
  /** The plugin's own folder for files (absolute). */
  filesRoot: string;
  /** The addresses its manifest declares (`routes`): it may map only these. Undefined: any free address. */
  declaredRoutes?: readonly string[];
  /** The plugin's folder, where its plugin.json is (absolute; read only for the control half). */
  pluginRoot: string;
  definition: ControlDefinition;
  realm: vm.Context;
  /** Turns an error's stack into `file:line` of the plugin's sources, or null. */
  locate: (stack: string) => string | null;
}

interface Running {
  version: ControlVersion;
  instance: ControlInstance;
  resources: VersionResources;
  /** Routes this version asked for (mapped once it is the current version). */
  routes: Map<string, () => void>;
  current: boolean;
}

export class ControlHalves {
  private readonly running = new Map<string, Running>();
  /** Files each plugin opened (all its versions): closed when the plugin is unloaded. */
  private readonly openFiles = new Map<string, Set<FileHandle>>();
  /** What each control half said about itself (`ctx.setStatus`), for the engine's status. */
  readonly statuses = new Map<string, Readonly<Record<string, unknown>>>();
  /** The HTTP servers control halves opened (`ctx.http`). */
  private readonly http: ControlHttp;

  constructor(private readonly ports: ControlPorts) {
    this.http = new ControlHttp(ports.allow);
  }

  /** The running instance of plugin `id`'s control half (tests and benchmarks reach into it). */
  instance(pluginId: string): ControlInstance | undefined {
    return this.running.get(pluginId)?.instance;
  }

  has(pluginId: string): boolean {
    return this.running.has(pluginId);
  }

  /** The addresses plugin `id`'s control half maps (docs, schema). */
  addresses(pluginId: string): string[] {
    return [...(this.running.get(pluginId)?.routes.keys() ?? [])];
  }

  /** Starts `version`; on success it replaces the running one (state handed over). Throws PLUGIN_LOAD_FAILED, the old version untouched. */
  /**
   * Starts `version` (replacing the running one). A `create` still not finished after `startWaitMs`
   * — waiting on something that never comes — holds up neither the engine's start nor other
   * plugins: this resolves, says so, and the version goes live whenever its `create` finishes (its
   * failure is reported then).
   */
  async start(version: ControlVersion): Promise<void> {
    const started = this.startNow(version);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.ports.startWaitMs)));
    try {
      if ((await Promise.race([started, waited])) !== 'late') return;
    } finally {
      clearTimeout(timer);
    }
    this.ports.log(version.pluginId, 'error', `its control half has not finished create() after ${this.ports.startWaitMs} ms (is it waiting on something that never comes?): the engine goes on without it; it goes live if it finishes`);
    started.catch((error: unknown) => this.ports.log(version.pluginId, 'error', (error as Error)?.message ?? String(error)));
  }

  private async startNow(version: ControlVersion): Promise<void> {
    const { pluginId } = version;
    const old = this.running.get(pluginId);
    const next = this.prepare(version);
    try {
      const made = next.resources.call(() => version.definition.create(this.contextFor(next)));
      next.instance = (isThenable(made) ? await made : made) as ControlInstance;
      if (typeof next.instance !== 'object' || next.instance === null) throw new Error('create() must return an object (the control instance)');
    } catch (error) {
      await next.resources.close();
      throw this.failure(version, 'failed to start', error);
    }
    let state: unknown;
    if (old) {
      state = this.quietly(old, 'getState', () => old.instance.getState?.());
      await this.retire(old);
    }
    next.current = true;
    this.running.set(pluginId, next);
    for (const map of next.routes.values()) map();
    if (state !== undefined && next.instance.setState) this.quietly(next, 'setState', () => next.instance.setState?.(state));
  }

  /** Removes plugin `id`'s control half: disposed, closed, its routes gone, its files closed. */
  async unload(pluginId: string): Promise<void> {
    const r = this.running.get(pluginId);
    if (r) await this.retire(r);
    this.running.delete(pluginId);
    this.statuses.delete(pluginId);
    const files = this.openFiles.get(pluginId);
    this.openFiles.delete(pluginId);
    for (const fh of files ?? []) await fh.close().catch(() => undefined);
  }

  /** The engine stops: each control half finishes what must not be lost. */
  async stopAll(): Promise<void> {
    for (const r of [...this.running.values()]) {
      try {
        await r.resources.call(() => r.instance.stop?.());
      } catch (error) {
        this.report(r, 'stop', error);
      }
    }
  }

  /** Shutdown: every control half unloaded. */
  async closeAll(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.unload(id);
  }

  configChanged(pluginId: string, config: Readonly<Record<string, unknown>>): void {
    const r = this.running.get(pluginId);
    if (!r) return;
    r.version = { ...r.version, config };
    r.resources.run(() => r.instance.configChanged?.(config));
  }

  /** A version not yet created: its instance is filled in by `start`. */
  private prepare(version: ControlVersion): Running {
    const r: Running = {
      version,
      instance: {},
      resources: new VersionResources(version.realm, this.ports.callMs, version.pluginId, (e) => this.report(r, 'a callback', e)),
      routes: new Map(),
      current: false,
    };
    return r;
  }

  private async retire(r: Running): Promise<void> {
    r.current = false;
    try {
      await r.resources.call(() => r.instance.dispose?.());
    } catch (error) {
      this.report(r, 'dispose', error);
    }
    for (const address of r.routes.keys()) this.ports.router.unmapRoute(address);
    await r.resources.close();
  }

  private quietly<T>(r: Running, what: string, fn: () => T): T | undefined {
    try {
      return r.resources.call(fn);
    } catch (error) {
      this.report(r, what, error);
      return undefined;
    }
  }

  private report(r: Running, what: string, error: unknown): void {
    const where = r.version.locate(String((error as Error)?.stack ?? error));
    const text = `control half, ${what}: ${where ? `${where}: ` : ''}${String((error as Error)?.message ?? error).split('\n')[0]}`;
    this.ports.log(r.version.pluginId, 'error', text);
  }

  private failure(version: ControlVersion, what: string, error: unknown): ChronusError {
    if (error instanceof ChronusError && error.code !== ErrorCode.PLUGIN_CONTROL_HUNG && error.code !== ErrorCode.PATH_ESCAPE) return error;
    const where = version.locate(String((error as Error)?.stack ?? error));
    const first = String((error as Error)?.message ?? error).split('\n')[0];
    return new ChronusError(ErrorCode.PLUGIN_LOAD_FAILED, `plugin "${version.pluginId}": its control half ${what}: ${where ? `${where}: ` : ''}${first}`, { cause: error });
  }

  /**
   * A version's context. Built in its own function (not inside `start`) so the closures keep this
   * version alive, not the one it replaced.
   */
  private contextFor(r: Running): ControlContext {
    const { pluginId, filesRoot } = r.version;
    const ports = this.ports;
    let files = this.openFiles.get(pluginId);
    if (!files) this.openFiles.set(pluginId, (files = new Set()));
    const log = (level: 'info' | 'warn' | 'error') => (message: string) => ports.log(pluginId, level, String(message));
    const logger: PluginLogger = { info: log('info'), warn: log('warn'), error: log('error') };
    return {
      pluginId,
      modules: r.version.modules,
      get config() {
        return r.version.config;
      },
      sampleRate: ports.sampleRate,
      blockSize: ports.blockSize,
      realtime: ports.realtime,
      numVoices: ports.numVoices,
      log: logger,
      audio: {
        get live() {
          return ports.audioLive(pluginId);
        },
        command: (name, args = []) => ports.command(pluginId, name, args),
        share: (name, value) => ports.share(pluginId, name, value),
        tap: (name) => ports.tap(pluginId, name),
        reload: () => ports.reloadAudio(pluginId),
      },
      files: pluginFiles(path.resolve(filesRoot), files, () => r.resources),
      pluginFiles: pluginFolder(path.resolve(r.version.pluginRoot), () => r.resources),
      timers: r.resources.timersApi,
      engine: ports.engineView(r.resources),
      udp: (port, host) => r.resources.udp(port, host),
      http: (options) => this.http.open(pluginId, r.resources, options),
      advertise: (service) => advertise(pluginId, r.resources, service),
      route: <S extends z.ZodType>(address: string, route: ControlRoute<S>, handler: (args: z.infer<S>, reply: Parameters<Parameters<ControlContext['route']>[2]>[1]) => unknown) => {
        if (typeof address !== 'string' || !address.startsWith('/') || address.startsWith('/mod/') || address.startsWith('/gate/')) {
          throw new ChronusError(ErrorCode.PLUGIN_ROUTE_CONFLICT, `plugin ${pluginId}: "${String(address)}" is not an address a plugin may take (/mod/… and /gate/… are the kernel's)`);
        }
        const declared = r.version.declaredRoutes;
        if (declared && !declared.includes(address)) {
          throw new ChronusError(ErrorCode.PLUGIN_ROUTE_CONFLICT, `plugin ${pluginId}: ${address} is not among the routes its plugin.json declares (${declared.join(', ')})`, {
            hint: 'Add the address to "routes" in plugin.json.',
          });
        }
        const own = this.running.get(pluginId)?.routes.has(address) === true;
        if (r.routes.has(address) || (ports.router.hasRoute(address) && !own)) {
          throw new ChronusError(ErrorCode.PLUGIN_ROUTE_CONFLICT, `plugin ${pluginId}: the address ${address} is taken`, {
            hint: 'Choose another address; /engine/schema lists the ones in use.',
          });
        }
        const map = () =>
          ports.router.mapRoute(
            address,
            async (args, rctx) => {
              if (!r.current) throw new ChronusError(ErrorCode.PLUGIN_UNKNOWN, `plugin ${pluginId}'s control half is gone`);
              const result = r.resources.call(() => handler(args, { address: rctx.address, reply: rctx.reply, replyJson: rctx.replyJson }));
              if (isThenable(result)) await result;
            },
            {
              args: route.args,
              description: route.description,
              usage: route.usage,
              // Time-limited like every call into the plugin; what it returns is checked to be lines of text.
              show: route.show && ((value) => linesOf(r.resources.call(() => route.show!(value)))),
            },
          );
        r.routes.set(address, map);
        if (r.current) map();
      },
      broadcast: (address, ...args) => {
        if (r.current) ports.broadcast(address, args);
      },
      setStatus: (fields) => {
        if (!r.resources.closed) this.statuses.set(pluginId, { ...fields });
      },
    };
  }
}

/** What a plugin's `show` returned, as lines of text (anything else shows nothing). */
function linesOf(value: unknown): string[] {
  return Array.isArray(value) ? value.slice(0, 1000).map((line) => String(line).slice(0, 1000)) : [];
}

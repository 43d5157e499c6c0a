/**
 * The Chronus engine as the control thread sees it: config in, then the audio host (offline, null or
 * device), schema registry, router, plugin host, OSC transport and status writer wired together.
 * `chronus start`, `chronus render` and the tests all build their engine here.
 */
import path from 'node:path';
import { debuglog } from 'node:util';
import { InProcessHost, type AudioHost } from '../host/audio-host.ts';
import type { Config } from '../base/config.ts';
import { ReportKind } from '../audio/event-kinds.ts';
import { OscRouter, type Remote, type RouteMessage, type TimetagClock } from '../osc/osc-router.ts';
import { OscTransport } from '../osc/osc-transport.ts';
import { MAX_HELD, StartupHold } from '../osc/startup-hold.ts';
import { EngineReplier } from '../osc/engine-replier.ts';
import { isLoopback, SenderAllowList } from '../osc/osc-allow-list.ts';
import { ParamControl } from '../params/param-control.ts';
import { PluginHost } from '../plugins/plugin-host.ts';
import { PluginStager } from '../plugins/plugin-staging.ts';
import { SchemaRegistry } from '../params/schema-registry.ts';
import { Slot } from '../audio/shared-state.ts';
import { WorkerHost } from '../host/worker-host.ts';
import type { TapRing } from '../audio/tap-ring.ts';
import { mapEngineRoutes } from './engine-routes.ts';
import { StatusReporter } from '../status/status-reporter.ts';
import { Logger } from '../base/logger.ts';
import { ErrorCode } from '../base/errors.ts';
import { PluginWatcher } from '../plugins/plugin-watcher.ts';
import { requestCpuLatency, type CpuLatencyRequest } from '../platform/cpu-latency.ts';
import { AudioRecovery } from '../host/audio-recovery.ts';
import { PluginLogRelay } from '../plugins/plugin-log.ts';
import { EngineConsole } from '../status/engine-console.ts';
import { EventLog } from '../status/event-log.ts';
import { EngineViews } from './engine-view.ts';
import { schemaDocument } from '../params/schema-export.ts';
import { engineStatus } from '../status/engine-status.ts';
import type { EngineServices } from './engine-services.ts';

const trace = debuglog('chronus:engine');
/** NODE_DEBUG=chronus:startup: when each part of the start is done, in ms since the process began. */
const startupLog = debuglog('chronus:startup');
const startTrace = (what: string): void => startupLog('%s at %d ms', what, Math.round(performance.now()));

/** A plugin the audio thread took out of play: bypassed, or a new version rolled back (`to`: the version restored). */
export interface PluginFaultReport {
  pluginId: string;
  /** The audio thread's frame: the first frame of the block in which it happened. */
  frame: number;
  outcome: 'bypassed' | 'rolled back';
  to?: string;
  message: string;
}

export type BackendChoice = 'auto' | 'device' | 'null' | 'offline';

export interface EngineOptions {
  config: Config;
  /** Overrides config.audio.backend. */
  backend?: BackendChoice;
  /** Bind the UDP OSC port (default: true unless offline). */
  listen?: boolean;
  /** Write the status file and send /viz (default: same as listen). */
  status?: boolean;
  /** Show replies on stdout as the old engine did (default: config.engine.console when listening). */
  console?: boolean;
  /** Hot reload: watch plugins/ (and `<root>/config` when root is given). Default: config.engine.watch when listening. */
  watch?: boolean;
  /** The project folder (for watching config/local.json). */
  root?: string;
  log?: Logger;
  /** Runs once the engine is built, before the first plugin loads (what must see every call: a session journal). */
  attach?: (engine: Engine) => Promise<void>;
}

export class Engine implements EngineServices {
  readonly registry = new SchemaRegistry();
  readonly router: OscRouter;
  readonly control: ParamControl;
  readonly plugins: PluginHost;
  readonly startedAt = Date.now();
  transport: OscTransport | null = null;
  /** Sees every engine-wide notice (plugin loaded/reloaded/errors), with or without clients. */
  onBroadcast: ((address: string, args: readonly unknown[]) => void) | null = null;
  /** Told of every plugin the audio thread bypassed or rolled back, with the audio thread's frame of it (a session journal). */
  onPluginFault: ((fault: PluginFaultReport) => void) | null = null;
  /** Sees every reply the engine sends (offline renders and in-process tests have no socket). */
  onReply: ((remote: Remote, address: string, args: readonly unknown[]) => void) | null = null;
  /**
   * True while some plugin's control half says it is busy (`ctx.setStatus({ active: true })`): the old
   * engine's status field `recording` and the status file's `REC:` keep their names for its clients.
   */
  get recording(): boolean {
    for (const s of this.plugins.controls.statuses.values()) if (s.active === true) return true;
    return false;
  }
  /** The CPU wake-up latency request held while a real-time backend plays (kernel/platform/cpu-latency.ts). */
  cpuLatency: CpuLatencyRequest = requestCpuLatency(null);
  /** Run (in order, awaited) by /engine/stop and by stop(): control halves finish their work (close their files). */
  readonly onStop: (() => Promise<void>)[] = [];
  /** Who has talked to us recently: engine-wide notices (plugin errors, reloads) go to them. */
  readonly clients = new Map<string, Remote>();
  private lastRemote: Remote | null = null;
  private reportTimer: NodeJS.Timeout | undefined;
  private status: StatusReporter | null = null;
  watcher: PluginWatcher | null = null;
  /** Plugins' `ctx.log` lines, to the console (and warnings and errors to clients as /engine/notice). */
  readonly pluginLog: PluginLogRelay;
  /** The watchdog and what it did (real-time backends only). */
  recovery: AudioRecovery | null = null;
  /** Every reply and notice leaves through it; it never throws (kernel/osc/engine-replier.ts). */
  readonly replier: EngineReplier;
  /** Errors the last-resort handlers of `chronus start` caught (cli/last-resort.ts), shown in status. */
  readonly uncaught = { count: 0, last: '' };
  /** The last 100 events (engine_log.txt beside the status file). */
  readonly events: EventLog;
  /** What the old engine printed on its console (kernel/status/engine-console.ts). */
  readonly console: EngineConsole;
  /** The engine as control halves see it (`ctx.engine`). */
  readonly views: EngineViews;
  /** Holds what arrives over OSC while the engine starts (null: no socket). */
  private hold: StartupHold | null = null;
  /** The kernel's own routes, mapped before any plugin loads: they answer while the engine starts. */
  private readonly kernelRoutes: ReadonlySet<string>;
  /** Why the audio thread could not start (the start then fails with it). */
  private audioFailure: Error | null = null;

  private constructor(
    readonly config: Config,
    readonly audio: AudioHost,
    readonly log: Logger,
    stager: PluginStager,
  ) {
    this.registry.defaultSmoothingMs = config.engine.smoothingMs;
    this.replier = new EngineReplier({
      transport: () => this.transport,
      onReply: () => this.onReply,
      maxPacketBytes: () => this.transport?.maxPacketBytes ?? config.osc.maxPacketBytes,
    });
    this.events = new EventLog(() => Math.max(audio.shared.values[Slot.PeakL], audio.shared.values[Slot.PeakR]));
    log.listen((level, message) => this.events.add(level === 'info' ? message : `${level.toUpperCase()}: ${message}`));
    this.console = new EngineConsole((line) => process.stdout.write(`${line}\n`), false, this.events, (address) => this.router.showOf(address));
    this.router = new OscRouter(this.console.wrap(this.replier, config.osc.replyToSender), this.clock);
    this.pluginLog = new PluginLogRelay(audio, (id, level, text) => {
      log[level](`plugin ${id}: ${text}`);
      if (level !== 'info') this.broadcast('/engine/notice', [id, text]);
    });
    const wake = audio instanceof WorkerHost ? () => audio.notify() : undefined;
    this.control = new ParamControl(this.registry, audio, wake);
    this.plugins = new PluginHost(config, this.registry, this.router, this.control, audio, {
      loaded: (p, reloaded, ms) => {
        this.views.pluginChanged({ kind: reloaded ? 'reloaded' : 'loaded', id: p.manifest.id, version: p.manifest.version });
        if (reloaded) {
          log.info(`plugin ${p.manifest.id} ${p.manifest.version} reloaded in ${ms.toFixed(0)} ms`);
          this.broadcast('/engine/plugin/reloaded', [p.manifest.id, p.manifest.version]);
        } else {
          log.info(`plugin ${p.manifest.id} ${p.manifest.version} loaded (${p.modules.join(', ')})`);
          this.broadcast('/engine/plugin/loaded', [p.manifest.id, p.manifest.version]);
        }
      },
      notice: (id, message) => {
        log.warn(`plugin ${id}: ${message}`);
        this.broadcast('/engine/notice', [id, message]);
      },
      failed: (folder, error) => this.pluginFailed(folder, error),
      unloaded: (id) => {
        this.views.pluginChanged({ kind: 'unloaded', id });
        log.info(`plugin ${id} unloaded`);
        this.broadcast('/engine/plugin/unloaded', [id]);
      },
      log: (pluginId, level, text) => this.pluginLog.pass({ pluginId, level, text }),
      broadcast: (address, args) => this.broadcast(address, args),
      engineView: (owner) => this.views.viewFor(owner),
    }, stager);
    this.views = new EngineViews({
      router: this.router,
      replier: this.replier,
      registry: this.registry,
      control: this.control,
      outputTap: audio.outputTap,
      schema: () => schemaDocument(this),
      status: () => engineStatus(this) as unknown as Record<string, unknown>,
      meters: () => [...this.plugins.loaded.values()].flatMap((p) => (p.meters ? [{ plugin: p.manifest.id, modules: p.modules, meters: p.meters }] : [])),
      masterPeaks: () => [audio.shared.values[Slot.PeakL], audio.shared.values[Slot.PeakR]],
      snapshot: { registry: this.registry, plugins: this.plugins, audio, control: this.control },
      legacyReaders: () => this.plugins.legacyReaders(),
    });
    // Control halves finish their work (their files closed) when the engine stops.
    this.onStop.push(() => this.plugins.controls.stopAll());
    mapEngineRoutes(this);
    this.kernelRoutes = new Set(this.router.routes().map((r) => r.address));
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const { config } = options;
    const log = options.log ?? new Logger();
    const choice = options.backend ?? config.audio.backend;
    const listen = options.listen ?? choice !== 'offline';
    // Everything that takes time starts at once and runs side by side: the OSC socket (so early
    // messages are answered or held, never lost), the audio thread with the sound card's probe, and
    // the plugins' bundles and trials.
    const opening = listen ? openTransport(config, log) : null;
    const audio = createAudio(choice, config);
    // Versions are tried in the standby audio thread (real time), else in a staging worker started on
    // the first version not tried before (a start whose plugins all passed before needs none:
    // kernel/plugins/trial-cache.ts).
    const stager = new PluginStager({ timeoutMs: config.engine.trialTimeoutMs, memoryMb: config.engine.pluginMemoryMb }, audio instanceof WorkerHost ? audio.trials : undefined);
    const engine = new Engine(config, audio, log, stager);
    const audioUp = audio instanceof WorkerHost && choice !== 'offline' ? openAudio(audio, choice, log) : Promise.resolve();
    // Until the audio thread is up its failure is the whole story: the plugins' loads wait on it and are not reported.
    audioUp.catch((e: Error) => (engine.audioFailure = e));
    try {
      if (opening) {
        engine.transport = await opening;
        engine.hold = new StartupHold(
          (address) => engine.kernelRoute(address),
          (m) => engine.dispatch(m),
          (remote, address) => remote && engine.replier.send(remote, '/error', [address, ErrorCode.EVENT_QUEUE_FULL, `the engine is starting and holds at most ${MAX_HELD} messages; send again once it listens`]),
        );
        engine.transport.onMessage = (m) => engine.receive(m);
        engine.transport.onBadPacket = (remote, reason) => engine.router.badPacket(remote, reason);
        startTrace('OSC answering');
      }
      void audioUp.then(() => startTrace(`audio thread up (${audio.backend})`), () => undefined);
      if (options.attach) {
        // What attaches sees the engine as it plays (its backend known) and every call to the audio thread.
        await audioUp;
        await options.attach(engine);
      }
      // The clock starts once the audio halves are in; the control halves (a sampler's kit) start meanwhile.
      const play = async (): Promise<void> => {
        await audioUp;
        startTrace('audio halves in');
        engine.console.enabled = options.console ?? (listen && config.engine.console);
        // What arrived while starting goes to the router now, before the clock starts (heard on the first
        // block), but for what needs a control half still starting: that waits for it.
        engine.hold?.narrow((address) => engine.playsBeforeControls(address));
        await engine.router.idle();
        if (audio instanceof WorkerHost) await engine.runClock(log);
      };
      await Promise.all([engine.plugins.loadAll(play).then(() => startTrace('plugins in')), audioUp]);
      engine.hold?.release();
      engine.hold = null;
      await engine.router.idle();
      engine.reportTimer = setInterval(() => engine.drainReports(), 50);
      engine.reportTimer.unref();
      if (options.status ?? listen) engine.status = StatusReporter.start(engine);
      if (options.watch ?? (listen && config.engine.watch)) {
        engine.watcher = await PluginWatcher.start(engine.plugins, config, options.root ?? null, {
          failed: (folder, error) => engine.pluginFailed(folder, error),
          configRejected: (error) => {
            log.error(`config change ignored: ${error.message}`);
            engine.broadcast('/engine/error', ['config', (error as { code?: string }).code ?? ErrorCode.CONFIG_INVALID, error.message]);
          },
        });
      }
    } catch (e) {
      if (!engine.transport) await opening?.then((t) => t.close(), () => undefined);
      await engine.stop();
      throw engine.audioFailure ?? e;
    }
    return engine;
  }

  /** The real-time clock starts, and the watchdog with it. */
  private async runClock(log: Logger): Promise<void> {
    const { audio, config } = this;
    if (!(audio instanceof WorkerHost)) return;
    this.cpuLatency = requestCpuLatency(config.audio.cpuDmaLatencyUs);
    if (this.cpuLatency.state === 'held') log.info(`audio: CPUs kept out of idle states slower than ${this.cpuLatency.requestedUs} µs to leave`);
    else if (this.cpuLatency.reason) log.info(`audio: CPU latency request not held (${this.cpuLatency.reason})`);
    await audio.run();
    startTrace('clock running');
    this.recovery = new AudioRecovery(
      {
        audio,
        plugins: this.plugins,
        registry: this.registry,
        control: this.control,
        report: (id, code, message) => {
          log.error(`${id}: ${message}`);
          this.broadcast('/engine/error', [id, code, message]);
        },
      },
      { blockMs: config.audio.watchdogMs, callMs: Math.max(1000, 10 * config.audio.watchdogMs) },
    );
    this.recovery.start();
  }

  /** One of the kernel's own routes: they answer from the moment the socket opens. */
  private kernelRoute(address: string): boolean {
    return address.startsWith('/engine/') && this.kernelRoutes.has(address);
  }

  /**
   * While the control halves start (the clock running): a parameter or gate of a module whose plugin
   * has no control half still starting plays now; anything else (plugins' own routes, a drum whose
   * kit is still loading, an address not mapped yet) waits for them.
   */
  private playsBeforeControls(address: string): boolean {
    if (this.kernelRoute(address)) return true;
    const module = /^\/(?:mod|gate)\/([^/]+)/.exec(address)?.[1];
    const owner = module === undefined ? undefined : this.registry.modules.get(module)?.pluginId;
    return owner !== undefined && this.router.has(address) && !this.plugins.controlStarting(owner);
  }

  /** Frame at which a wall-clock time (ms since the epoch) is heard. */
  readonly clock: TimetagClock = (timetagMs) => {
    const v = this.audio.shared.values;
    const frame = Math.round(v[Slot.AnchorFrame] + ((timetagMs - v[Slot.AnchorWallMs]) * this.audio.sampleRate) / 1000);
    const rendered = v[Slot.FramesRendered];
    return { frame, late: frame < rendered, lateMs: ((rendered - frame) * 1000) / this.audio.sampleRate };
  };

  /** A message from the socket: held while the engine starts (kernel/osc/startup-hold.ts), else dispatched. */
  receive(msg: RouteMessage): void {
    if (this.hold) this.hold.accept(msg);
    else this.dispatch(msg);
  }

  dispatch(msg: RouteMessage): void {
    // The same sender as the last message (a score's every event) is known already: only dispatch evicts.
    if (msg.remote && msg.remote !== this.lastRemote) {
      this.lastRemote = msg.remote;
      const key = `${msg.remote.address}:${msg.remote.port}`;
      if (!this.clients.has(key)) {
        if (this.clients.size >= 16) this.clients.delete(this.clients.keys().next().value as string);
        this.clients.set(key, msg.remote);
      }
    }
    this.router.dispatch(msg);
  }

  pluginFailed(folder: string, error: Error): void {
    if (this.audioFailure) return;
    this.views.pluginChanged({ kind: 'failed', id: path.basename(folder), message: error.message });
    this.log.error(error.message);
    this.broadcast('/engine/error', [path.basename(folder), (error as { code?: string }).code ?? ErrorCode.PLUGIN_LOAD_FAILED, error.message]);
  }

  /** Close every gate (stop, panic). */
  releaseAllGates(): void {
    for (const m of this.registry.modules.values()) if (m.gate !== undefined) this.control.gate(m.gate, 0);
  }

  /** A tap ring opened by any loaded plugin, by name. */
  tap(name: string): TapRing | undefined {
    for (const p of this.plugins.loaded.values()) {
      const t = p.taps.get(name);
      if (t) return t;
    }
    return undefined;
  }

  /** Resolves when every message dispatched so far has been handled (their calls to the audio thread included). */
  settle(): Promise<void> {
    return this.router.idle();
  }

  broadcast(address: string, args: readonly unknown[]): void {
    this.onBroadcast?.(address, args);
    // osc.replyToSender false: nothing goes back to clients, notices included.
    if (!this.config.osc.replyToSender) return;
    for (const remote of this.clients.values()) this.replier.send(remote, address, args);
  }

  /** Plugin faults reported by the audio thread → log and /engine/error. */
  drainReports(): void {
    void this.pluginLog.poll();
    const rec = { kind: 0, frame: 0, target: 0, value: 0 };
    while (this.audio.reports.pop(rec)) {
      const slotId = rec.target;
      const frame = rec.frame;
      if (rec.kind === ReportKind.PluginFault) {
        void this.audio.call('plugins').then((list) => {
          const slot = list.find((p) => p.slotId === slotId);
          this.reportFault({ pluginId: slot?.pluginId ?? `slot ${slotId}`, frame, outcome: 'bypassed', message: '' }, slotId, slot?.lastError ?? 'unknown error');
        });
      } else if (rec.kind === ReportKind.PluginRolledBack) {
        const failed = this.plugins.rolledBack(slotId);
        void this.audio.call('retiredError', slotId).then((detail) => {
          const to = failed?.previous?.manifest.version ?? '?';
          this.reportFault({ pluginId: failed?.manifest.id ?? `slot ${slotId}`, frame, outcome: 'rolled back', to, message: '' }, slotId, detail || 'unknown error');
        });
      }
    }
  }

  private reportFault(fault: PluginFaultReport, slotId: number, stack: string): void {
    const where = this.plugins.locate(slotId, stack);
    const message = `${where ? `${where}: ` : ''}${stack.split('\n')[0]}`;
    const outcome = fault.to === undefined ? fault.outcome : `${fault.outcome} to version ${fault.to}`;
    this.log.error(`plugin ${fault.pluginId} ${outcome}: ${message}`);
    this.broadcast('/engine/error', [fault.pluginId, ErrorCode.PLUGIN_FAULT, `${outcome}: ${message}`]);
    this.onPluginFault?.({ ...fault, message });
  }

  async stop(): Promise<void> {
    for (const hook of this.onStop) await hook().catch((e: Error) => this.log.error(`stop: ${e.message}`));
    clearInterval(this.reportTimer);
    this.recovery?.stop();
    await this.watcher?.close();
    await this.status?.stop();
    await this.transport?.close();
    this.transport = null;
    await this.plugins.controls.closeAll();
    await this.audio.close();
    await this.plugins.stager.close();
    await this.plugins.bundles.dispose();
    this.cpuLatency.release();
  }
}

/** The OSC socket: loopback by default; beyond it, only allow-listed senders (and a warning saying so). */
async function openTransport(config: Config, log: Logger): Promise<OscTransport> {
  const { host, allow } = config.osc;
  const t = await OscTransport.open({
    host,
    port: config.osc.port,
    maxPacketBytes: config.osc.maxPacketBytes,
    recvBufferSize: config.osc.recvBufferBytes,
    allow: isLoopback(host) ? null : SenderAllowList.from(allow),
  });
  t.onError = (e) => trace('osc: %s', e.message);
  if (t.allow) {
    log.warn(`osc: listening on ${host}:${t.port}, beyond loopback: packets are accepted from loopback and from ${allow.join(', ')} only (osc.allow); UDP senders can be spoofed, so keep this to a trusted network`);
  }
  const asked = config.osc.recvBufferBytes;
  if (t.recvBufferProblem) log.warn(`osc: ${t.recvBufferProblem}; the receive buffer is ${t.recvBufferBytes} bytes`);
  else log.info(`osc: receive buffer ${t.recvBufferBytes} bytes as the OS reports it (${asked > 0 ? `asked ${asked}; Linux caps a request at net.core.rmem_max and reports it doubled` : 'the OS default'})`);
  return t;
}

function audioOptions(config: Config) {
  return {
    sampleRate: config.audio.sampleRate,
    blockSize: config.audio.bufferSize,
    smoothingMs: config.engine.smoothingMs,
    equalPowerFades: config.engine.reloadCrossfade === 'equal-power',
  };
}

/** The audio host, at once: in-process for offline renders, else a worker host whose thread `openAudio` starts. */
function createAudio(choice: BackendChoice, config: Config): AudioHost {
  const options = audioOptions(config);
  if (choice === 'offline') return new InProcessHost(options);
  return WorkerHost.create({ ...options, leadBlocks: config.audio.leadBlocks, dedicatedCpu: config.audio.dedicatedCpu, device: config.audio.device === null ? null : String(config.audio.device) });
}

async function openAudio(host: WorkerHost, choice: Exclude<BackendChoice, 'offline'>, log: Logger): Promise<void> {
  await host.open(choice, (reason) => log.info(`audio: no sound device (${reason}); using the real-time null backend`));
  if (host.backend === 'device') log.info(`audio: device backend, ${host.sampleRate} Hz, ${host.blockSize}-frame blocks`);
}

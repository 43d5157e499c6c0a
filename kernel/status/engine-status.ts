/** The engine's facts at one moment: what /engine/status answers and engine_status.txt shows. */
import type { AudioRecovery, RecoveryStatus } from '../host/audio-recovery.ts';
import type { AudioHost } from '../host/audio-host.ts';
import type { EngineReplier } from '../osc/engine-replier.ts';
import type { OscRouter } from '../osc/osc-router.ts';
import type { OscTransport } from '../osc/osc-transport.ts';
import type { ParamControl } from '../params/param-control.ts';
import type { PluginHost } from '../plugins/plugin-host.ts';
import type { CpuLatencyRequest } from '../platform/cpu-latency.ts';
import { Slot } from '../audio/shared-state.ts';
import { WorkerHost } from '../host/worker-host.ts';

/**
 * What the status is read from (the engine provides it; see engine-services.ts). Declared here from
 * the services' own types, so the console's formatter can import EngineStatus without a circle.
 */
export interface StatusSources {
  readonly audio: AudioHost;
  readonly router: OscRouter;
  readonly control: ParamControl;
  readonly plugins: Pick<PluginHost, 'loaded' | 'quarantined' | 'controls' | 'all'>;
  readonly replier: EngineReplier;
  readonly transport: OscTransport | null;
  /** The watchdog and what it did (real-time backends only). */
  readonly recovery: AudioRecovery | null;
  readonly cpuLatency: CpuLatencyRequest;
  /** True while some control half reports itself active (e.g. writing a file). */
  readonly recording: boolean;
  readonly startedAt: number;
  /** Errors the last-resort handlers caught, and the last one's text. */
  readonly uncaught: { readonly count: number; readonly last: string };
}

export interface EngineStatus {
  backend: string;
  running: boolean;
  sampleRate: number;
  blockSize: number;
  framesRendered: number;
  seconds: number;
  xruns: number;
  peak: number;
  rms: number;
  activeGates: number;
  messages: number;
  errors: number;
  badPackets: number;
  unknownAddress: number;
  badArgs: number;
  /** Messages whose extra trailing arguments were ignored (old clients send some; kernel/osc/osc-router.ts). */
  extraArgs: number;
  late: number;
  clamped: number;
  lastMessage: string;
  /** Stopped by /engine/stop: the output is silent and gates are ignored until /engine/start (the clock runs on). */
  stopped: boolean;
  eventsDropped: number;
  pluginFaults: number;
  blockMs: { last: number; p50: number; p99: number; p999: number; max: number; deadline: number };
  /** Why the last xrun happened: its lateness and render time; the worst wake-up delay of the audio loop. */
  xrunDetail: { lastLateMs: number; lastRenderMs: number; maxWakeDelayMs: number; maxSleepOverrunMs: number; maxCallMs: number };
  /** The CPU wake-up latency request (kernel/platform/cpu-latency.ts): held, or why not. */
  cpuLatency: { state: string; requestedUs: number | null; reason: string };
  /** The CPU the audio thread has to itself (audio.dedicatedCpu), or null. */
  audioCpu: number | null;
  plugins: string[];
  /** The audio watchdog: hangs, restarts of the audio thread, the silence they cost, plugins kept out (real-time backends). */
  watchdog: (RecoveryStatus & { quarantined: string[]; stalledMs: number }) | null;
  recording: boolean;
  pluginStatus: Record<string, Readonly<Record<string, unknown>>>;
  uptimeSeconds: number;
  /**
   * The OSC socket (null fields when not listening): the receive buffer the OS granted, the senders
   * allowed beyond loopback and the packets dropped for not being one, and replies that could not go
   * as they were (clipped to fit, replaced by a short /error, dropped) or that the socket failed to send.
   */
  osc: {
    host: string | null;
    port: number | null;
    allow: string[];
    recvBufferBytes: number | null;
    deniedPackets: number;
    repliesClipped: number;
    repliesReplaced: number;
    repliesDropped: number;
    sendErrors: number;
  };
  /** Errors caught by the last-resort handlers (the engine played on), and the last one's text. */
  uncaughtErrors: number;
  lastUncaught: string;
}

export function engineStatus(engine: StatusSources): EngineStatus {
  const v = engine.audio.shared.values;
  const s = engine.audio.shared;
  const sr = engine.audio.sampleRate;
  return {
    backend: engine.audio.backend,
    // Never "running" while nothing renders: a plugin call stuck past the watchdog's limit, or a restart under way.
    running: (v[Slot.Running] === 1 && !(engine.recovery?.stalled() ?? false)) || engine.audio.backend === 'offline',
    sampleRate: sr,
    blockSize: engine.audio.blockSize,
    framesRendered: v[Slot.FramesRendered],
    seconds: v[Slot.FramesRendered] / sr,
    xruns: v[Slot.Xruns],
    peak: Math.max(v[Slot.PeakL], v[Slot.PeakR]),
    rms: v[Slot.Rms],
    activeGates: v[Slot.ActiveGates],
    messages: engine.router.counters.messages,
    errors: engine.router.counters.errors,
    badPackets: engine.router.counters.badPackets,
    unknownAddress: engine.router.counters.unknownAddress,
    badArgs: engine.router.counters.badArgs,
    extraArgs: engine.router.counters.extraArgs,
    late: engine.router.counters.late,
    clamped: engine.control.clampedCount,
    lastMessage: engine.router.lastMessage,
    stopped: engine.control.stopped,
    eventsDropped: v[Slot.EventsDropped],
    pluginFaults: v[Slot.PluginFaults],
    blockMs: {
      last: v[Slot.LastBlockMs],
      p50: s.blockTimeQuantile(0.5),
      p99: s.blockTimeQuantile(0.99),
      p999: s.blockTimeQuantile(0.999),
      max: v[Slot.MaxBlockMs],
      deadline: (engine.audio.blockSize / sr) * 1000,
    },
    xrunDetail: { lastLateMs: v[Slot.LastXrunLateMs], lastRenderMs: v[Slot.LastXrunRenderMs], maxWakeDelayMs: v[Slot.MaxWakeDelayMs], maxSleepOverrunMs: v[Slot.MaxSleepOverrunMs], maxCallMs: v[Slot.MaxCallMs] },
    cpuLatency: { state: engine.cpuLatency.state, requestedUs: engine.cpuLatency.requestedUs, reason: engine.cpuLatency.reason },
    audioCpu: engine.audio instanceof WorkerHost ? (engine.audio.audioCpu?.cpu ?? null) : null,
    plugins: engine.plugins.all().map((p) => p.manifest.id),
    watchdog: engine.recovery ? { ...engine.recovery.status, quarantined: [...engine.plugins.quarantined.keys()], stalledMs: engine.recovery.stalledMs() } : null,
    recording: engine.recording,
    /** What control halves say about themselves (`ctx.setStatus`), by plugin id. */
    pluginStatus: Object.fromEntries(engine.plugins.controls.statuses),
    uptimeSeconds: (Date.now() - engine.startedAt) / 1000,
    osc: oscStatus(engine),
    uncaughtErrors: engine.uncaught.count,
    lastUncaught: engine.uncaught.last,
  };
}

function oscStatus(engine: Pick<StatusSources, 'transport' | 'replier' | 'router'>): EngineStatus['osc'] {
  const t = engine.transport;
  const r = engine.replier.counters;
  return {
    host: t?.host ?? null,
    port: t?.port ?? null,
    allow: t?.allow ? [...t.allow.entries] : [],
    recvBufferBytes: t?.recvBufferBytes ?? null,
    deniedPackets: t?.stats.denied ?? 0,
    repliesClipped: r.clipped,
    repliesReplaced: r.replaced,
    repliesDropped: r.dropped + engine.router.counters.replyErrors,
    sendErrors: t?.stats.sendErrors ?? 0,
  };
}

/** `AUDIO: <level> | MSG: <n> | GATES: <n> | REC: <REC|---> | XRUNS: <n> | LAST: <msg> | TIME: HH:MM:SS` (OSC.md). */
export function statusLine(s: EngineStatus, now = new Date()): string {
  const time = now.toTimeString().slice(0, 8);
  return `AUDIO: ${s.peak.toFixed(4)} | MSG: ${s.messages} | GATES: ${s.activeGates} | REC: ${s.recording ? 'REC' : '---'} | XRUNS: ${s.xruns} | LAST: ${s.lastMessage || '-'} | TIME: ${time}`;
}

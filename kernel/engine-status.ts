/** The engine's facts at one moment: what /engine/status answers and engine_status.txt shows. */
import type { Engine } from './engine.ts';
import { Slot } from './shared-state.ts';
import { WorkerHost } from './worker-host.ts';

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
  /** Messages whose extra trailing arguments were ignored (old clients send some; kernel/osc-router.ts). */
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
  /** The CPU wake-up latency request (kernel/cpu-latency.ts): held, or why not. */
  cpuLatency: { state: string; requestedUs: number | null; reason: string };
  /** The CPU the audio thread has to itself (audio.dedicatedCpu), or null. */
  audioCpu: number | null;
  plugins: string[];
  recording: boolean;
  uptimeSeconds: number;
}

export function engineStatus(engine: Engine): EngineStatus {
  const v = engine.audio.shared.values;
  const s = engine.audio.shared;
  const sr = engine.audio.sampleRate;
  return {
    backend: engine.audio.backend,
    running: v[Slot.Running] === 1 || engine.audio.backend === 'offline',
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
    plugins: [...engine.plugins.loaded.keys()],
    recording: engine.recording,
    uptimeSeconds: (Date.now() - engine.startedAt) / 1000,
  };
}

/** `AUDIO: <level> | MSG: <n> | GATES: <n> | REC: <REC|---> | XRUNS: <n> | LAST: <msg> | TIME: HH:MM:SS` (OSC.md). */
export function statusLine(s: EngineStatus, now = new Date()): string {
  const time = now.toTimeString().slice(0, 8);
  return `AUDIO: ${s.peak.toFixed(4)} | MSG: ${s.messages} | GATES: ${s.activeGates} | REC: ${s.recording ? 'REC' : '---'} | XRUNS: ${s.xruns} | LAST: ${s.lastMessage || '-'} | TIME: ${time}`;
}

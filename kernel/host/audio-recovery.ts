/**
 * Getting the sound back after a plugin hangs the audio thread (control thread). The watchdog names
 * the plugin whose call did not return; the hung worker is terminated and a fresh one carries on the
 * timeline with every other plugin's current version, parameter values, open gates and last state
 * snapshot (the sequencer's position among it), while the culprit is rolled back (a new version under
 * watch) or quarantined until its files change.
 *
 * State snapshots: every `SNAPSHOT_MS` each plugin's 'reload' state (everything, the sequencer's
 * position included) is taken, unless it carries more than `MAX_SNAPSHOT_BYTES` of buffers (a reverb's
 * tail), in which case its 'save' state is taken instead: a restart loses tails, not patterns.
 */
import path from 'node:path';
import { ErrorCode } from '../base/errors.ts';
import type { ParamControl } from '../params/param-control.ts';
import type { PluginHost } from '../plugins/plugin-host.ts';
import type { SchemaRegistry } from '../params/schema-registry.ts';
import { AudioWatchdog, type Stall, type WatchdogLimits } from './audio-watchdog.ts';
import type { WorkerHost } from './worker-host.ts';
import type { StatePurpose } from '../../plugin-sdk/types.ts';

const SNAPSHOT_MS = 500;
/**
 * A fresh audio thread's first blocks run code V8 and WebAssembly have not optimised yet (a first
 * block of 32 voices took over 100 ms on a loaded machine): for this long the watchdog gives every
 * call the between-blocks limit, so cold code is not taken for a hang.
 */
const COLD_GRACE_MS = 2000;
const MAX_SNAPSHOT_BYTES = 256 * 1024;

export interface RecoveryStatus {
  /** Hangs seen, and audio threads replaced because of them. */
  stalls: number;
  restarts: number;
  /** From the hang's start to the first block of the fresh thread (ms), the last and the worst. */
  lastSilenceMs: number;
  maxSilenceMs: number;
  /** True while the audio thread is being replaced (nothing renders). */
  recovering: boolean;
  last: { plugin: string; file: string; outcome: string; at: string } | null;
}

export interface RecoveryDeps {
  audio: WorkerHost;
  plugins: PluginHost;
  registry: SchemaRegistry;
  control: ParamControl;
  /** Log and broadcast `/engine/error <id> <code> <message>`. */
  report(pluginId: string, code: string, message: string): void;
}

export class AudioRecovery {
  readonly status: RecoveryStatus = { stalls: 0, restarts: 0, lastSilenceMs: 0, maxSilenceMs: 0, recovering: false, last: null };
  private readonly watchdog: AudioWatchdog;
  private readonly snapshots = new Map<string, unknown>();
  /** Plugins whose full state is too large to snapshot twice a second. */
  private readonly saveOnly = new Set<string>();
  private snapshotTimer: NodeJS.Timeout | undefined;
  private snapshotting = false;

  constructor(
    private readonly deps: RecoveryDeps,
    limits: WatchdogLimits,
  ) {
    this.watchdog = new AudioWatchdog(deps.audio.shared, limits, (stall) => this.onStall(stall, 'stall'));
    deps.audio.onUnexpectedExit = (code) => this.onStall({ slotId: 0, betweenBlocks: false, stalledMs: 0 }, `exit ${code}`);
  }

  /** How long the plugin call running now has been running, as far as the watchdog has seen (ms). */
  stalledMs(): number {
    return this.watchdog.currentCallMs(performance.now());
  }

  /** True while the audio thread renders nothing: stuck, or being replaced. */
  stalled(): boolean {
    return this.status.recovering || !this.watchdog.rendering(performance.now());
  }

  start(): void {
    this.watchdog.start(COLD_GRACE_MS);
    this.snapshotTimer = setInterval(() => void this.snapshot(), SNAPSHOT_MS);
    this.snapshotTimer.unref();
  }

  stop(): void {
    this.watchdog.stop();
    clearInterval(this.snapshotTimer);
    this.deps.audio.onUnexpectedExit = null;
  }

  /** Takes every plugin's state (a call between blocks each; skipped while one is under way). */
  private async snapshot(): Promise<void> {
    if (this.snapshotting || this.status.recovering) return;
    this.snapshotting = true;
    try {
      for (const id of this.deps.plugins.loaded.keys()) {
        if (this.deps.plugins.quarantined.has(id)) continue;
        const purpose: StatePurpose = this.saveOnly.has(id) ? 'save' : 'reload';
        const state = await this.deps.audio.call('getState', id, purpose).catch(() => undefined);
        if (state === undefined) continue;
        if (purpose === 'reload' && bufferBytes(state) > MAX_SNAPSHOT_BYTES) this.saveOnly.add(id);
        this.snapshots.set(id, state);
      }
    } finally {
      this.snapshotting = false;
    }
  }

  /** A stall seen while the audio thread is being replaced (the fresh one hung too). */
  private queued: { stall: Stall; why: string } | null = null;

  private onStall(stall: Stall, why: string): void {
    if (!this.status.recovering) {
      void this.recover(stall, why);
      return;
    }
    // The fresh thread hangs as well (the culprit came back with a restored value, say): end it,
    // which fails the recovery's calls in flight, and go round again with this culprit contained too.
    this.queued = { stall, why };
    void this.deps.audio.abort();
  }

  private async recover(first: Stall, firstWhy: string): Promise<void> {
    const { audio, plugins, registry, control } = this.deps;
    const began = performance.now() - first.stalledMs;
    this.status.recovering = true;
    let next: { stall: Stall; why: string } | null = { stall: first, why: firstWhy };
    const outcomes: { id: string; file: string; text: string }[] = [];
    while (next !== null) {
      const { stall, why } = next;
      this.status.stalls++;
      const culprit = plugins.bySlot(stall.slotId);
      const id = culprit?.manifest.id ?? '';
      const where = stall.betweenBlocks ? 'a call between blocks (create, state or a command)' : 'process()';
      const what = why === 'stall' ? `hung the audio thread for ${stall.stalledMs.toFixed(0)} ms in ${where} (an endless loop?)` : `the audio thread ended (${why})`;
      const outcome = culprit ? plugins.contain(id, what) : 'no plugin was running';
      outcomes.push({ id, file: culprit ? path.join(culprit.folder, culprit.manifest.entry ?? '') : '', text: `${what}; ${outcome}` });
      this.snapshots.delete(id);
      this.queued = null;
      try {
        await audio.restart();
        this.watchdog.reset(COLD_GRACE_MS);
        await plugins.reinstate(this.snapshots);
        for (const m of registry.modules.values()) for (const p of m.params.values()) control.set(p.index, registry.values[p.index]);
        if (control.stopped) control.setStopped(true);
        for (const g of control.openGates) control.gate(g, 1);
        await audio.run();
        this.status.restarts++;
        next = null;
      } catch (error) {
        next = this.queued;
        if (next === null) {
          this.status.recovering = false;
          this.deps.report(id || 'engine', ErrorCode.AUDIO_RESTART_FAILED, `the audio thread could not be replaced: ${(error as Error).message}`);
          return;
        }
      }
    }
    this.status.recovering = false;
    this.watchdog.reset(COLD_GRACE_MS);
    const silence = performance.now() - began;
    this.status.lastSilenceMs = silence;
    this.status.maxSilenceMs = Math.max(this.status.maxSilenceMs, silence);
    for (const o of outcomes) {
      this.status.last = { plugin: o.id || '(kernel)', file: o.file, outcome: o.text, at: new Date().toISOString() };
      this.deps.report(o.id || 'engine', ErrorCode.PLUGIN_HUNG, `${o.file ? `${o.file}: ` : ''}${o.text}; sound back after ${silence.toFixed(0)} ms`);
    }
  }
}

/** Bytes of typed arrays in a state object (bounded walk). */
function bufferBytes(value: unknown, depth = 0): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value === null || typeof value !== 'object' || depth > 8) return 0;
  let total = 0;
  for (const v of Object.values(value)) total += bufferBytes(v, depth + 1);
  return total;
}

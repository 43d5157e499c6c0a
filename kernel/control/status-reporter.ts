/**
 * Every `engine.statusIntervalMs` (100 ms): rewrites the status file atomically (temp + rename, so a
 * reader never sees half a line) and, when events were added, `engine_log.txt` beside it (the last
 * 100 events, kernel/control/event-log.ts) the same way; notes when the output starts sounding or falls
 * silent (AUDIO_STARTED, SILENCE_DETECTED, as the old engine did). Every `viz.intervalMs` (100 ms):
 * sends `/viz/levels` (one peak per voice) and `/viz/spectrum` (8 bands, `viz.spectrum`) to the
 * visualiser port.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineServices } from './engine-services.ts';
import { engineStatus, statusLine, type StatusSources } from './engine-status.ts';
import { Slot } from '../audio/shared-state.ts';
import { OUTPUT_TAP_FRAMES } from './audio-host.ts';
import { FFT_SIZE, spectrum } from './spectrum.ts';

/** The event log's file name, beside the status file (the old engine's name). */
export const EVENT_LOG_FILE = 'engine_log.txt';
/** The old engine's thresholds: sound after silence below this … */
const SILENCE_LEVEL = 0.001;
/** … or silence after sound above this, is an event. */
const SOUND_LEVEL = 0.01;

/** What the reporter reads: the status, the config, the event log (and the transport for /viz). */
export type StatusReporterHost = Pick<EngineServices, keyof StatusSources | 'config' | 'events'>;

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private vizTimer: NodeJS.Timeout | undefined;
  /** The last FFT_SIZE output samples (mono), oldest first. */
  readonly recent = new Float64Array(FFT_SIZE);
  private readonly chunk = [new Float32Array(OUTPUT_TAP_FRAMES), new Float32Array(OUTPUT_TAP_FRAMES)];
  private writing: Promise<void> = Promise.resolve();
  private lastLevel = 0;
  private logWritten = 0;

  private constructor(private readonly engine: StatusReporterHost) {}

  static start(engine: StatusReporterHost): StatusReporter {
    const r = new StatusReporter(engine);
    r.timer = setInterval(() => r.tick(), engine.config.engine.statusIntervalMs);
    r.timer.unref();
    if (engine.config.viz.enabled) {
      r.vizTimer = setInterval(() => r.sendViz(), engine.config.viz.intervalMs);
      r.vizTimer.unref();
    }
    r.tick();
    return r;
  }

  private tick(): void {
    const { engine } = this;
    const status = engineStatus(engine);
    this.noteLevel(status.peak);
    const line = statusLine(status);
    const file = engine.config.engine.statusFile;
    const events = engine.events;
    const log = events.version !== this.logWritten ? events.text() : null;
    this.logWritten = events.version;
    // One write at a time; a slow disk skips ticks rather than piling them up.
    this.writing = this.writing.then(async () => {
      await replace(file, `${line}\n`);
      if (log !== null) await replace(path.join(path.dirname(file), EVENT_LOG_FILE), log);
    });
    // The output tap holds 170 ms: drained here too, so a slow viz interval still sees recent audio.
    this.readOutput();
  }

  /** AUDIO_STARTED / SILENCE_DETECTED when the output level crosses the old engine's thresholds. */
  private noteLevel(level: number): void {
    if (level < SILENCE_LEVEL && this.lastLevel > SOUND_LEVEL) this.engine.events.add(`SILENCE_DETECTED (was ${this.lastLevel.toFixed(4)})`);
    else if (level > SOUND_LEVEL && this.lastLevel < SILENCE_LEVEL) this.engine.events.add(`AUDIO_STARTED (${level.toFixed(4)})`);
    this.lastLevel = level;
  }

  private sendViz(): void {
    const { engine } = this;
    this.readOutput();
    if (!engine.transport) return;
    const viz = engine.config.viz;
    const to = { address: viz.host, port: viz.port };
    engine.transport.send(to, '/viz/levels', this.levels());
    engine.transport.send(to, '/viz/spectrum', spectrum(this.recent, engine.audio.sampleRate, viz.spectrum));
  }

  /** Drain the output tap into the rolling window of recent samples. */
  private readOutput(): void {
    const n = this.engine.audio.outputTap.read(this.chunk);
    const keep = Math.min(n, FFT_SIZE);
    this.recent.copyWithin(0, keep);
    for (let i = 0; i < keep; i++) {
      const j = n - keep + i;
      this.recent[FFT_SIZE - keep + i] = 0.5 * (this.chunk[0][j] + this.chunk[1][j]);
    }
  }

  /** Per-module peaks from the plugins' meters (voices first), reset as read; the master peaks when none meter. */
  levels(): number[] {
    const levels: number[] = [];
    const plugins = [...this.engine.plugins.loaded.values()].sort((a, b) => Number(b.manifest.role === 'source') - Number(a.manifest.role === 'source'));
    for (const p of plugins) {
      if (!p.meters) continue;
      for (let i = 0; i < p.meters.length; i++) {
        levels.push(p.meters[i]);
        p.meters[i] = 0;
      }
    }
    if (levels.length > 0) return levels;
    const v = this.engine.audio.shared.values;
    return [v[Slot.PeakL], v[Slot.PeakR]];
  }

  /** Stops the timers after a last write (the log's last events, e.g. "stopping", reach the file). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.vizTimer);
    this.tick();
    await this.writing;
  }
}

/** Replace `file` atomically (temp + rename). A failure here must not disturb the engine: these files are a convenience. */
async function replace(file: string, text: string): Promise<void> {
  try {
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  } catch {
    // Nothing to do: the next tick tries again.
  }
}

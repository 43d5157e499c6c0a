/**
 * Every `engine.statusIntervalMs` (100 ms): rewrites the status file atomically (temp + rename, so a
 * reader never sees half a line) and sends `/viz/levels` to the visualiser port.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { Engine } from './engine.ts';
import { engineStatus, statusLine } from './engine-status.ts';
import { Slot } from './shared-state.ts';
import { OUTPUT_TAP_FRAMES } from './audio-host.ts';
import { bandLevels, FFT_SIZE } from './spectrum.ts';

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  /** The last FFT_SIZE output samples (mono), oldest first. */
  readonly recent = new Float64Array(FFT_SIZE);
  private readonly chunk = [new Float32Array(OUTPUT_TAP_FRAMES), new Float32Array(OUTPUT_TAP_FRAMES)];
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly engine: Engine) {}

  static start(engine: Engine): StatusReporter {
    const r = new StatusReporter(engine);
    r.timer = setInterval(() => r.tick(), engine.config.engine.statusIntervalMs);
    r.timer.unref();
    r.tick();
    return r;
  }

  private tick(): void {
    const { engine } = this;
    const line = statusLine(engineStatus(engine));
    const file = engine.config.engine.statusFile;
    // One write at a time; a slow disk skips ticks rather than piling them up.
    this.writing = this.writing.then(async () => {
      try {
        await writeFile(`${file}.tmp`, `${line}\n`);
        await rename(`${file}.tmp`, file);
      } catch {
        // The status file is a convenience; a failure here must not disturb the engine.
      }
    });
    this.readOutput();
    const viz = engine.config.viz;
    if (viz.enabled && engine.transport) {
      const to = { address: viz.host, port: viz.port };
      engine.transport.send(to, '/viz/levels', this.levels());
      engine.transport.send(to, '/viz/spectrum', bandLevels(this.recent, engine.audio.sampleRate));
    }
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

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
  }
}

/**
 * Every `engine.statusIntervalMs` (100 ms): rewrites the status file atomically (temp + rename, so a
 * reader never sees half a line) and sends `/viz/levels` to the visualiser port.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { Engine } from './engine.ts';
import { engineStatus, statusLine } from './engine-status.ts';
import { Slot } from './shared-state.ts';

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
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
    const viz = engine.config.viz;
    if (viz.enabled && engine.transport) {
      const v = engine.audio.shared.values;
      engine.transport.send({ address: viz.host, port: viz.port }, '/viz/levels', [v[Slot.PeakL], v[Slot.PeakR], v[Slot.Rms]]);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
  }
}

/**
 * Every `engine.statusIntervalMs` (100 ms): rewrites the status file atomically (temp + rename, so a
 * reader never sees half a line) and, when events were added, `engine_log.txt` beside it (the last
 * 100 events, kernel/status/event-log.ts) the same way; notes when the output starts sounding or falls
 * silent (AUDIO_STARTED, SILENCE_DETECTED, as the old engine did). (The visualiser feed, /viz/*, is
 * the viz plugin's.)
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EngineServices } from '../engine/engine-services.ts';
import { engineStatus, statusLine, type StatusSources } from './engine-status.ts';

/** The event log's file name, beside the status file (the old engine's name). */
export const EVENT_LOG_FILE = 'engine_log.txt';
/** The old engine's thresholds: sound after silence below this … */
const SILENCE_LEVEL = 0.001;
/** … or silence after sound above this, is an event. */
const SOUND_LEVEL = 0.01;

/** What the reporter reads: the status, the config, the event log, and the views (whose output window it keeps drained). */
export type StatusReporterHost = Pick<EngineServices, keyof StatusSources | 'config' | 'events' | 'views'>;

export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastLevel = 0;
  private logWritten = 0;

  private constructor(private readonly engine: StatusReporterHost) {}

  static start(engine: StatusReporterHost): StatusReporter {
    const r = new StatusReporter(engine);
    // A process killed mid-write leaves its temp files (the files themselves are whole): the first write goes after they are gone.
    const file = engine.config.engine.statusFile;
    r.writing = Promise.all([file, path.join(path.dirname(file), EVENT_LOG_FILE)].map((f) => rm(`${f}.tmp`, { force: true }))).then(
      () => undefined,
      () => undefined,
    );
    r.timer = setInterval(() => r.tick(), engine.config.engine.statusIntervalMs);
    r.timer.unref();
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
    // The output tap holds 170 ms: drained here too, so a slow reader still sees recent audio.
    engine.views.drainOutput();
  }

  /** AUDIO_STARTED / SILENCE_DETECTED when the output level crosses the old engine's thresholds. */
  private noteLevel(level: number): void {
    if (level < SILENCE_LEVEL && this.lastLevel > SOUND_LEVEL) this.engine.events.add(`SILENCE_DETECTED (was ${this.lastLevel.toFixed(4)})`);
    else if (level > SOUND_LEVEL && this.lastLevel < SILENCE_LEVEL) this.engine.events.add(`AUDIO_STARTED (${level.toFixed(4)})`);
    this.lastLevel = level;
  }

  /** Stops the timers after a last write (the log's last events, e.g. "stopping", reach the file). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
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

/**
 * Plugins' `ctx.log` reaches the console (control thread). The audio thread only keeps the lines
 * (kernel/audio/audio-engine.ts, bounded); this collects them when some are waiting and passes them on, at
 * most `LINES_PER_SECOND` per plugin — a plugin that logs every block says so once a second instead.
 */
import type { AudioHost } from '../host/audio-host.ts';
import type { PluginLogEntry } from '../audio/audio-engine.ts';
import { Slot } from '../audio/shared-state.ts';

const LINES_PER_SECOND = 10;

export type PluginLogSink = (pluginId: string, level: PluginLogEntry['level'], text: string) => void;

export class PluginLogRelay {
  private taking = false;
  private readonly windows = new Map<string, { start: number; lines: number; suppressed: number }>();

  constructor(
    private readonly audio: AudioHost,
    private readonly sink: PluginLogSink,
  ) {}

  /** Collects what is waiting (one call to the audio thread, only when something is). */
  async poll(now = Date.now()): Promise<void> {
    if (this.taking || this.audio.shared.values[Slot.PluginLogPending] === 0) return;
    this.taking = true;
    try {
      const { entries, dropped } = await this.audio.call('takeLog');
      for (const e of entries) this.pass(e, now);
      if (dropped > 0) this.sink('engine', 'warn', `${dropped} plugin log lines were dropped (more than the audio thread keeps between collections)`);
    } catch {
      // The audio thread was replaced meanwhile: its lines went with it.
    } finally {
      this.taking = false;
    }
  }

  /** Passes one line on, within the plugin's lines per second (control halves log through here too). */
  pass(entry: PluginLogEntry, now = Date.now()): void {
    let w = this.windows.get(entry.pluginId);
    if (!w || now - w.start >= 1000) {
      if (w && w.suppressed > 0) this.sink(entry.pluginId, 'warn', `${w.suppressed} more log lines in one second were not shown`);
      w = { start: now, lines: 0, suppressed: 0 };
      this.windows.set(entry.pluginId, w);
    }
    if (w.lines++ < LINES_PER_SECOND) this.sink(entry.pluginId, entry.level, entry.text);
    else w.suppressed++;
  }
}

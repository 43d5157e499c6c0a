/**
 * The engine's recent events (control thread): the last 100 lines, as the old engine kept them in
 * `engine_log.txt` beside the status file — `HH:MM:SS | LEVEL: 0.1234 | <event>`. Fed with what the
 * console shows (errors, engine start and stop, patterns, what plugins start and stop), the log's lines (plugins
 * loaded, reloaded, failed) and the status reporter's level changes (AUDIO_STARTED,
 * SILENCE_DETECTED); written atomically by the status reporter when it changed.
 */
export const EVENT_LOG_LINES = 100;
/** One event's text is cut to this many characters (one line, no control characters). */
const MAX_EVENT_CHARS = 300;

export class EventLog {
  private readonly lines: string[] = [];
  /** Bumped on every event: the writer rewrites the file when it differs from what it last wrote. */
  version = 0;

  constructor(
    /** The output level shown on each line (the master peak). */
    private readonly level: () => number = () => 0,
    private readonly capacity = EVENT_LOG_LINES,
    private readonly now: () => Date = () => new Date(),
  ) {}

  add(event: string): void {
    const text = event.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
    const clipped = text.length > MAX_EVENT_CHARS ? `${text.slice(0, MAX_EVENT_CHARS - 1)}…` : text;
    const level = this.level();
    this.lines.push(`${this.now().toTimeString().slice(0, 8)} | LEVEL: ${(Number.isFinite(level) ? level : 0).toFixed(4)} | ${clipped}`);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    this.version++;
  }

  /** The file's text: oldest first, one event per line. */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }

  get size(): number {
    return this.lines.length;
  }
}

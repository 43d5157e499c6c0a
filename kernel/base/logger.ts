/**
 * The control thread's one log sink (the audio thread never logs). Quiet mode keeps tests' output
 * clean; listeners (the engine's event log) see every message, quiet or not.
 */
export class Logger {
  private readonly listeners: ((level: 'info' | 'warn' | 'error', message: string) => void)[] = [];

  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly quiet = false,
  ) {}

  /** Also hand every message to `listener` (level and text, without the "chronus:" prefix). */
  listen(listener: (level: 'info' | 'warn' | 'error', message: string) => void): void {
    this.listeners.push(listener);
  }

  private tell(level: 'info' | 'warn' | 'error', message: string): void {
    for (const l of this.listeners) {
      try {
        l(level, message);
      } catch {
        // A listener's failure is not the log's.
      }
    }
  }

  static silent(): Logger {
    return new Logger(() => {}, true);
  }

  info(message: string): void {
    this.tell('info', message);
    if (!this.quiet) this.write(`chronus: ${message}`);
  }

  warn(message: string): void {
    this.tell('warn', message);
    this.write(`chronus: warning: ${message}`);
  }

  error(message: string): void {
    this.tell('error', message);
    this.write(`chronus: error: ${message}`);
  }
}

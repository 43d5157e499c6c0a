/** The control thread's one log sink (the audio thread never logs). Quiet mode keeps tests' output clean. */
export class Logger {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly quiet = false,
  ) {}

  static silent(): Logger {
    return new Logger(() => {}, true);
  }

  info(message: string): void {
    if (!this.quiet) this.write(`chronus: ${message}`);
  }

  warn(message: string): void {
    this.write(`chronus: warning: ${message}`);
  }

  error(message: string): void {
    this.write(`chronus: error: ${message}`);
  }
}

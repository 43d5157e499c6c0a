/** Milliseconds spent in each named step of a piece of work, for a debuglog trace. */
export class StepTimes {
  private last: number;
  private readonly parts: string[] = [];
  constructor(began: number) {
    this.last = began;
  }
  mark(step: string): void {
    const now = performance.now();
    this.parts.push(`${step} ${(now - this.last).toFixed(1)} ms`);
    this.last = now;
  }
  /** A figure of its own that is not a step (the clock of the steps does not move). */
  note(name: string, ms: number): void {
    this.parts.push(`${name} ${ms.toFixed(1)} ms`);
  }
  done(): string {
    return this.parts.join(', ');
  }
}

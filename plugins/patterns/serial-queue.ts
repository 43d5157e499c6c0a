/**
 * A one-at-a-time queue for pattern I/O (control thread): each task starts when the one before it has
 * settled, whatever its outcome, so a save during a save, or a load during a save, never interleave.
 * Nothing here touches the audio thread.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private depth = 0;

  /** Tasks queued or running. */
  get pending(): number {
    return this.depth;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.depth++;
    const result = this.tail.then(task, task).finally(() => {
      this.depth--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}

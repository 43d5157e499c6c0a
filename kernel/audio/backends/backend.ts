/** An output backend on the audio thread: opened (and so checked) first, started once the graph is ready. */
export interface Backend {
  start(): void;
  stop(): Promise<void>;
  /**
   * Renders up to `blocks` blocks beyond the usual lead now, before the audio thread runs something
   * long between blocks (a plugin version's create: several ms of cold code), so the margin that
   * absorbs it is doubled. Events for the frames rendered early then apply at the next block.
   * Backends that cannot queue more output leave it out.
   */
  renderAhead?(blocks: number): void;
}

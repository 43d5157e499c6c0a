/** An output backend on the audio thread: opened (and so checked) first, started once the graph is ready. */
export interface Backend {
  start(): void;
  stop(): Promise<void>;
}

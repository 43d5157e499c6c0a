/** Kinds of record carried by the control ring (control → audio) and the report ring (audio → control). */
export const EventKind = {
  /** target = parameter index, value = new base value (already clamped). */
  SetParam: 1,
  /** target = gate index, value > 0 opens, 0 closes. */
  Gate: 2,
  /** target = parameter index, value = modulation offset in parameter units. */
  Modulate: 3,
  /** `/engine/stop`: drop every queued event timed after the block it is taken in (target, value unused). */
  ClearScheduled: 4,
  /**
   * `/engine/stop` (value 1) and `/engine/start` (value 0): the output fades to silence (the clock
   * keeps running, so nothing underflows) and gates stop opening, until started again.
   */
  OutputStopped: 5,
} as const;

export const ReportKind = {
  /** A plugin threw or produced non-finite output; target = slot id, value = error count so far. */
  PluginFault: 1,
  /** A reloaded version failed while watched: target = its slot id, value = the slot id restored. */
  PluginRolledBack: 2,
} as const;

/**
 * The journal ring (audio → control): every control-ring record the audio thread took, as it took
 * it — kind, frame (a due record's frame is the sample it applies on), target, value — each run of
 * them led by one `Taken` record whose frame is the first frame of the block that took them.
 */
export const JournalKind = {
  Taken: 100,
} as const;

/**
 * The step sequencer's engine: tracks, the sample clock and the events it schedules.
 *
 * Threads: everything except `beginBlock` runs between blocks (commands, state) and may allocate;
 * `beginBlock` runs at the start of every block and follows the real-time rules — it reads only the
 * typed arrays of the current `TrackSet` and calls the kernel's event scheduler.
 *
 * Per hit (OSC.md, "Sequencer"): freq = the next note (cycling once per hit) or base_freq;
 * amp = base_amp × velocity; filter/freq = filter_freq + accent_boost × (velocity − 0.5); the
 * send levels of the old engine's `<bus>_send` keys (`reverb_send` → `send/reverb`, where the voice
 * has that send: a send plugin declares the bus); then the gate opens, and closes after gate_frac of a step. All of it
 * lands on the step's exact sample. Pending gate-offs are kept per gate (voice), so whatever happens
 * (stop, clear, remove, a new pattern, a hot reload) every gate this sequencer opened gets closed.
 */
import { clamp, type EventScheduler } from 'plugin-sdk';
import { STEPS_PER_BAR, StepClock } from './step-clock.ts';
import { MAX_BPM, MAX_SWING, MAX_TRACKS, MIN_BPM, parseSequencerState, SEND_KEYS, STATE_VERSION, type SequencerState, type TrackSpec } from './state.ts';

/** Velocity codes in a track's pattern array: `X` accent 1.0, `x` normal 0.6, anything else a rest. */
export const VEL_ACCENT = 100;
export const VEL_NORMAL = 60;

export function parsePattern(text: string): Uint8Array {
  const steps = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    steps[i] = c === 88 /* X */ ? VEL_ACCENT : c === 120 /* x */ ? VEL_NORMAL : 0;
  }
  return steps;
}

/** How the sequencer finds other modules (the kernel's scheduler; call between blocks only). */
export type Resolver = Pick<EventScheduler, 'paramIndex' | 'gateIndex'>;

/**
 * One set of tracks as the block path reads it: flat typed arrays by track index. Built between
 * blocks (from `TrackSpec`s) and swapped in by reference, so the block path never sees a half-made set.
 */
export class TrackSet {
  readonly count: number;
  readonly patterns: Uint8Array[];
  readonly patternLen: Int32Array;
  readonly notes: Float64Array[];
  readonly noteIndex: Int32Array;
  readonly baseFreq: Float64Array;
  readonly baseAmp: Float64Array;
  readonly filterFreq: Float64Array;
  readonly accentBoost: Float64Array;
  /** Per track and send key (`SEND_KEYS`): the level a hit sets, at `track * SEND_KEYS.length + k`. */
  readonly sendLevel: Float64Array;
  readonly gateFrac: Float64Array;
  readonly gate: Int32Array;
  readonly freqParam: Int32Array;
  readonly ampParam: Int32Array;
  readonly filterParam: Int32Array;
  /** The send level parameters, indexed like `sendLevel` (-1: the voice has no such send now). */
  readonly sendParam: Int32Array;
  /** The largest gate index any track uses, -1 if none. */
  readonly maxGate: number;
  /** True when some track's voice (or one of its parameters, a send included) was not found. */
  readonly unresolved: boolean;

  constructor(
    readonly specs: readonly TrackSpec[],
    resolve: Resolver,
  ) {
    const n = specs.length;
    this.count = n;
    this.patterns = specs.map((t) => parsePattern(t.pattern));
    this.patternLen = Int32Array.from(specs, (t) => t.pattern.length);
    this.notes = specs.map((t) => Float64Array.from(t.notes));
    this.noteIndex = Int32Array.from(specs, (t) => (t.notes.length > 0 ? t.note_index % t.notes.length : 0));
    this.baseFreq = Float64Array.from(specs, (t) => t.base_freq);
    this.baseAmp = Float64Array.from(specs, (t) => t.base_amp);
    this.filterFreq = Float64Array.from(specs, (t) => t.filter_freq);
    this.accentBoost = Float64Array.from(specs, (t) => t.accent_boost);
    this.sendLevel = Float64Array.from(specs.flatMap((t) => SEND_KEYS.map((k) => t[k.key])));
    this.gateFrac = Float64Array.from(specs, (t) => t.gate_frac);
    this.gate = new Int32Array(n);
    this.freqParam = new Int32Array(n);
    this.ampParam = new Int32Array(n);
    this.filterParam = new Int32Array(n);
    this.sendParam = new Int32Array(n * SEND_KEYS.length);
    let maxGate = -1;
    let unresolved = false;
    for (let i = 0; i < n; i++) {
      const v = specs[i].voice;
      this.gate[i] = resolve.gateIndex(v);
      this.freqParam[i] = resolve.paramIndex(`/mod/${v}/freq`);
      this.ampParam[i] = resolve.paramIndex(`/mod/${v}/amp`);
      this.filterParam[i] = resolve.paramIndex(`/mod/${v}/filter/freq`);
      SEND_KEYS.forEach(({ bus }, k) => {
        const at = i * SEND_KEYS.length + k;
        this.sendParam[at] = resolve.paramIndex(`/mod/${v}/send/${bus}`);
        // A send plugin loaded later gives the voice this send: look again then.
        if (this.sendParam[at] < 0) unresolved = true;
      });
      if (this.gate[i] > maxGate) maxGate = this.gate[i];
      if (this.gate[i] < 0 || this.freqParam[i] < 0 || this.ampParam[i] < 0) unresolved = true;
    }
    this.maxGate = maxGate;
    this.unresolved = unresolved;
  }

  /** The specs with the note positions the block path has reached. */
  snapshot(): TrackSpec[] {
    return this.specs.map((t, i) => ({ ...t, notes: [...t.notes], note_index: this.noteIndex[i] }));
  }
}

interface Staged {
  set: TrackSet;
  bpm: number;
  swing: number;
}

export type AddOptions = Partial<Omit<TrackSpec, 'name' | 'voice' | 'pattern' | 'note_index'>>;

const INITIAL_GATES = 64;

export class Sequencer {
  readonly clock: StepClock;
  bpm = 120;
  running = false;
  private set: TrackSet;
  private staged: Staged | null = null;
  /** Start the clock at the next block's first frame. */
  private pendingStart = false;
  /** Pending gate-offs by gate index: the gates this sequencer holds open. */
  private offPending = new Uint8Array(INITIAL_GATES);
  private offFrame = new Float64Array(INITIAL_GATES);
  private offCount = 0;
  /** Gates [0, gateSpan) may have a pending off. */
  private gateSpan = 0;

  constructor(
    readonly sampleRate: number,
    private readonly events: EventScheduler,
  ) {
    this.clock = new StepClock(sampleRate, this.bpm);
    this.set = new TrackSet([], events);
  }

  get swing(): number {
    return this.clock.swing;
  }

  get tracks(): readonly TrackSpec[] {
    return this.set.specs;
  }

  /** A pattern load waiting for the next bar. */
  get stagedLoad(): boolean {
    return this.staged !== null;
  }

  // ───────────────────────── between blocks ─────────────────────────

  /** Add a track, or replace the one with the same name (its place and held gate are kept). */
  add(name: string, voice: string, pattern: string, options: AddOptions = {}, notes?: number[]): void {
    const specs = this.set.snapshot();
    const i = specs.findIndex((t) => t.name === name);
    const old = i >= 0 ? specs[i] : undefined;
    if (!old && specs.length >= MAX_TRACKS) throw new Error(`the sequencer holds at most ${MAX_TRACKS} tracks; /seq/remove one first`);
    if (this.events.gateIndex(voice) < 0) throw new Error(`no module "${voice}" with a gate; /engine/list lists the modules`);
    const track: TrackSpec = {
      name,
      voice,
      pattern,
      notes: notes ?? [],
      base_freq: options.base_freq ?? 440,
      base_amp: options.base_amp ?? 0.3,
      filter_freq: options.filter_freq ?? 1000,
      accent_boost: options.accent_boost ?? 1500,
      reverb_send: options.reverb_send ?? 0,
      delay_send: options.delay_send ?? 0,
      gate_frac: options.gate_frac ?? 0.5,
      note_index: 0,
    };
    if (i >= 0) specs[i] = track;
    else specs.push(track);
    this.install(specs);
  }

  /** Remove a track; a note it is holding still ends after its gate_frac. */
  remove(name: string): void {
    const specs = this.set.snapshot();
    specs.splice(this.indexOf(name), 1);
    this.install(specs);
  }

  clear(): void {
    this.install([]);
    this.closeAll(this.events.blockStart);
  }

  updatePattern(name: string, pattern: string): void {
    const specs = this.set.snapshot();
    specs[this.indexOf(name)].pattern = pattern;
    this.install(specs);
  }

  /** New notes; the cycle restarts at the first one (as in Music Chronus). */
  updateNotes(name: string, notes: number[]): void {
    const specs = this.set.snapshot();
    const t = specs[this.indexOf(name)];
    t.notes = notes;
    t.note_index = 0;
    this.install(specs);
  }

  /** Start from step 0 at the next block (no effect while running). */
  start(): void {
    if (this.running) return;
    this.closeAll(this.events.blockStart);
    this.running = true;
    this.pendingStart = true;
  }

  /** Stop and close every gate the sequencer holds. A load waiting for the bar is applied now. */
  stop(): void {
    if (this.staged) {
      const s = this.staged;
      this.staged = null;
      this.set = s.set;
      this.clock.swing = s.swing;
      this.setBpm(s.bpm);
    }
    this.running = false;
    this.pendingStart = false;
    this.closeAll(this.events.blockStart);
  }

  setBpm(bpm: number): void {
    const b = clamp(bpm, MIN_BPM, MAX_BPM);
    if (this.running && !this.pendingStart) this.clock.setBpm(b, this.events.blockStart);
    else this.clock.setBpmAtStep(b, this.clock.nextStep);
    this.bpm = b;
  }

  setSwing(swing: number): void {
    this.clock.swing = clamp(swing, 0, MAX_SWING);
  }

  /** Try again to find voices that were missing (e.g. loaded after the sequencer). */
  resolve(): void {
    if (this.set.unresolved) this.install(this.set.snapshot());
  }

  /**
   * The state as JSON. For a hot reload (`'reload'`) it also carries the clock position and the held
   * gates so the new version continues the groove; patterns and status (`'save'`) leave those out.
   */
  getState(purpose: 'save' | 'reload' = 'save'): SequencerState {
    const c = this.clock;
    const state: SequencerState = { v: STATE_VERSION, bpm: this.bpm, swing: c.swing, running: this.running, tracks: this.set.snapshot() };
    if (purpose !== 'reload') return state;
    const pendingOffs: [number, number][] = [];
    for (let g = 0; g < this.gateSpan; g++) if (this.offPending[g] === 1) pendingOffs.push([g, this.offFrame[g]]);
    state.pendingOffs = pendingOffs;
    if (this.staged !== null) state.staged = { bpm: this.staged.bpm, swing: this.staged.swing, tracks: this.staged.set.snapshot() };
    if (this.running && !this.pendingStart) state.position = { step: c.nextStep, anchorFrame: c.anchorFrame, anchorStep: c.anchorStep };
    return state;
  }

  /**
   * Restore a state. `applyAt: 'bar'` (a pattern load while running) prepares the new tracks now and
   * swaps them in at the next bar's first sample; `'now'` swaps at the next block. A pattern load
   * leaves the transport alone (`running` in it is ignored). Without `applyAt` (hot reload) everything
   * carries over — running, the clock position and the held gates — so the groove continues.
   * A bad state throws before anything changes.
   */
  setState(raw: unknown): void {
    const st = parseSequencerState(raw);
    const set = new TrackSet(st.tracks, this.events);
    this.ensureGates(set.maxGate);
    if (st.applyAt === undefined) {
      this.staged = st.staged === undefined ? null : { set: new TrackSet(st.staged.tracks, this.events), bpm: st.staged.bpm, swing: st.staged.swing };
      if (this.staged !== null) this.ensureGates(this.staged.set.maxGate);
      this.set = set;
      this.clock.swing = st.swing;
      this.bpm = st.bpm;
      const c = this.clock;
      for (const [g, frame] of st.pendingOffs ?? []) {
        this.ensureGates(g);
        if (this.offPending[g] === 0) this.offCount++;
        this.offPending[g] = 1;
        this.offFrame[g] = frame;
        if (g >= this.gateSpan) this.gateSpan = g + 1;
      }
      if (st.running && st.position) {
        c.stepLen = (this.sampleRate * 60) / st.bpm / 4;
        c.anchorFrame = st.position.anchorFrame;
        c.anchorStep = st.position.anchorStep;
        c.nextStep = st.position.step;
        this.running = true;
        this.pendingStart = false;
      } else {
        this.setBpm(st.bpm);
        if (st.running) this.start();
        else if (this.running) this.stop();
      }
      return;
    }
    // A pattern load changes the groove (tracks, tempo, swing), never the transport: playing stays
    // playing, stopped stays stopped.
    if (st.applyAt === 'bar' && this.running && !this.pendingStart) {
      this.staged = { set, bpm: st.bpm, swing: st.swing };
      return;
    }
    this.staged = null;
    this.set = set;
    this.clock.swing = st.swing;
    this.setBpm(st.bpm);
  }

  status(): Record<string, unknown> {
    const c = this.clock;
    const missing = this.set.specs.filter((_, i) => this.set.gate[i] < 0).map((t) => t.voice);
    return {
      bpm: this.bpm,
      swing: c.swing,
      running: this.running,
      step: c.nextStep,
      bar: Math.floor(c.nextStep / STEPS_PER_BAR),
      pendingLoad: this.staged ? 'bar' : null,
      heldGates: this.offCount,
      tracks: this.set.snapshot(),
      ...(missing.length > 0 ? { missingVoices: [...new Set(missing)] } : {}),
    };
  }

  private indexOf(name: string): number {
    const i = this.set.specs.findIndex((t) => t.name === name);
    if (i < 0) throw new Error(`no track "${name}"; /seq/status lists the tracks`);
    return i;
  }

  private install(specs: TrackSpec[]): void {
    const set = new TrackSet(specs, this.events);
    this.ensureGates(set.maxGate);
    this.set = set;
  }

  private ensureGates(maxGate: number): void {
    if (maxGate < this.offPending.length) return;
    const size = Math.max(maxGate + 1, this.offPending.length * 2);
    const pending = new Uint8Array(size);
    pending.set(this.offPending);
    const frames = new Float64Array(size);
    frames.set(this.offFrame);
    this.offPending = pending;
    this.offFrame = frames;
  }

  // ───────────────────────── the block path ─────────────────────────

  /** Schedule every step onset and gate-off that falls in [blockStart, blockStart + frames). No allocation. */
  beginBlock(blockStart: number, frames: number): void {
    const end = blockStart + frames;
    const clock = this.clock;
    if (this.pendingStart) {
      this.pendingStart = false;
      clock.start(blockStart);
    }
    if (this.running) {
      // Steps missed by more than a whole step (never in normal running) are skipped, not played in a burst.
      const k = clock.anchorStep + Math.floor((blockStart - clock.anchorFrame) / clock.stepLen);
      if (k > clock.nextStep) clock.nextStep = k;
      for (;;) {
        const n = clock.nextStep;
        let t = clock.onset(n);
        if (t >= end) break;
        if (t < blockStart) t = blockStart;
        if (this.staged !== null && n % STEPS_PER_BAR === 0) this.swapStaged(n);
        this.flushOffs(t + 1, blockStart);
        this.fire(n, t);
        clock.nextStep = n + 1;
      }
    }
    this.flushOffs(end, blockStart);
  }

  /** The bar-aligned load: the new tracks, tempo and swing take over at step n (its grid frame is kept). */
  private swapStaged(n: number): void {
    const s = this.staged as Staged;
    this.staged = null;
    this.set = s.set;
    this.clock.swing = s.swing;
    this.clock.setBpmAtStep(s.bpm, n);
    this.bpm = s.bpm;
  }

  /** Open the gates of every track with a hit at step n, at frame t. */
  private fire(n: number, t: number): void {
    const s = this.set;
    const ev = this.events;
    const clock = this.clock;
    for (let i = 0; i < s.count; i++) {
      const g = s.gate[i];
      if (g < 0) continue;
      const code = s.patterns[i][n % s.patternLen[i]];
      if (code === 0) continue;
      const vel = code / 100;
      // A note still held on this voice ends where the new one starts.
      if (this.offPending[g] === 1) {
        ev.gate(t, g, 0);
        this.offPending[g] = 0;
        this.offCount--;
      }
      const notes = s.notes[i];
      let freq = s.baseFreq[i];
      if (notes.length > 0) {
        const k = s.noteIndex[i];
        freq = notes[k];
        s.noteIndex[i] = k + 1 < notes.length ? k + 1 : 0;
      }
      if (s.freqParam[i] >= 0) ev.setParam(t, s.freqParam[i], freq);
      if (s.ampParam[i] >= 0) ev.setParam(t, s.ampParam[i], s.baseAmp[i] * vel);
      if (s.filterParam[i] >= 0) ev.setParam(t, s.filterParam[i], s.filterFreq[i] + s.accentBoost[i] * (vel - 0.5));
      const sends = SEND_KEYS.length;
      for (let k = i * sends; k < (i + 1) * sends; k++) if (s.sendParam[k] >= 0) ev.setParam(t, s.sendParam[k], s.sendLevel[k]);
      ev.gate(t, g, 1);
      this.offPending[g] = 1;
      this.offFrame[g] = clock.gateOff(n, s.gateFrac[i], t);
      this.offCount++;
      if (g >= this.gateSpan) this.gateSpan = g + 1;
    }
  }

  /** Close the held gates whose off frame is before `limit` (never before `floor`). */
  private flushOffs(limit: number, floor: number): void {
    if (this.offCount === 0) return;
    const pending = this.offPending;
    const frames = this.offFrame;
    for (let g = 0; g < this.gateSpan; g++) {
      if (pending[g] === 1 && frames[g] < limit) {
        const f = frames[g];
        this.events.gate(f < floor ? floor : f, g, 0);
        pending[g] = 0;
        this.offCount--;
      }
    }
  }

  private closeGate(g: number, frame: number): void {
    if (this.offPending[g] !== 1) return;
    this.events.gate(frame, g, 0);
    this.offPending[g] = 0;
    this.offCount--;
  }

  /** Close every gate the sequencer holds, at `frame`. */
  private closeAll(frame: number): void {
    for (let g = 0; g < this.gateSpan; g++) this.closeGate(g, frame);
  }
}

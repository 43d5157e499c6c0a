/**
 * The `voices` plugin: binds the parameter table of each voice module (voice1..voiceN) to `VoiceDsp`
 * and, for saw voices, to the SIMD `VoiceBank` (bank.ts) that renders them four at a time.
 *
 * | hook        | thread / when                     | does                                                    |
 * | ----------- | --------------------------------- | ------------------------------------------------------- |
 * | create      | audio thread, between blocks      | one VoiceDsp per module, the VoiceBank (wasm, ~1 ms),   |
 * |             |                                   | keeps the kernel Param objects                          |
 * | gate        | inside a block, at the event      | opens (attack) or releases voice `module`               |
 * | beginBlock  | block start                       | every 32 blocks, looks again for tap buses not found yet |
 * | process     | inside a block, frames [start,end) | reads every non-idle voice's parameters and envelope    |
 * |             |                                   | into typed arrays (`gather`), then renders each; ADDS   |
 * |             |                                   | it to `main` (l = r)                                    |
 * |             |                                   | and voice × send level to `send:reverb`, `send:delay`   |
 * |             |                                   | and, where those buses exist, to `tap:<id>` (stems,     |
 * |             |                                   | acid1) and its pre-filter signal to `tap:<id>:prefilter` |
 * | getState    | between blocks                    | `{ v: 1, voices: [VoiceState…] }`                       |
 * | stateSchema | control / audio, between blocks   | state.ts: bounded pitches, levels and filter memories   |
 * | setState    | between blocks (after create)     | restores held notes; tolerates missing fields; ignores  |
 * |             |                                   | a state that fails stateSchema                          |
 *
 * Two renderers, one sound. A voice is rendered by the bank while it is a saw (`osc/type` 1) whose
 * pitch is at rest (no slide set, `freq` not gliding) and that has no tap bus; otherwise by its own
 * `VoiceDsp` (sine, square, noise, portamento, smoothed pitch changes, stems, acid1's source). The
 * switch happens at a span start and hands over the oscillator phase, the BLEP line and the filter
 * state exactly, so a voice may cross over mid-note without a seam (test/plugins/voice-bank.test.ts).
 * In the bank the envelope (the same `Adsr` object) is applied as linear gain ramps, split at every
 * segment end; while cutoff, amp or a send moves (kernel smoothing, LFOs), the span is split into
 * RAMP_CHUNK (32-frame) chunks: cutoff coefficients per chunk, gains and sends ramped linearly to
 * each chunk's end value (`skipParam`, the kernel's curve). Voice sums are built in mono and added
 * to both channels once; when every bank voice has the same send levels the sends are scaled copies
 * of that sum. `plugins.voices.bank: false` in the config renders every voice with `VoiceDsp`.
 *
 * Taps (agreed with the recorder and acid plugins): a voice never creates them; it looks them up with
 * `ctx.findBus` (in create, then every 32 blocks for the ones still missing, so a plugin loaded later
 * is picked up within ~0.2 s) and ADDS into them: `tap:voiceN` gets exactly what voiceN added to
 * `main` (recorder stems, `plugins.recorder.tap = "stems"`; acid1 subtracts it), `tap:voiceN:prefilter`
 * gets oscillator × envelope × amp before the voice's own lowpass (what acid1 filters instead).
 * A voice whose taps were not opened costs one undefined check each.
 *
 * Moving parameters (kernel smoothing) are read per sample with `p.next()` on the VoiceDsp path; at
 * rest `p.value` is used for the whole block. With a slide time set, the voice glides to the
 * parameter's target itself, so the unsmoothed `p.target` is fed instead (the slide reaches the new
 * pitch in exactly slide_time).
 */
import { definePlugin, RAMP_CHUNK, skipParam, WAVE_SAW, type Adsr, type Bus, type Param, type ParamTable, type PluginContext } from 'plugin-sdk';
import { VoiceBank } from './bank.ts';
import { AMP_MOVING, CTL_AMP, CTL_CUTOFF, CTL_FREQ, CTL_Q, CUTOFF_MOVING, FREQ_MOVING, VoiceDsp, type VoiceState } from './dsp.ts';
import { VoicesStateSchema } from './state.ts';

const params = {
  freq: { min: 20, max: 5000, default: 440, unit: 'Hz', description: 'Oscillator frequency' },
  amp: { min: 0, max: 1, default: 0.3, description: 'Voice level (multiplies the envelope)' },
  'osc/type': {
    type: 'enum',
    min: 0,
    max: 5,
    default: 0,
    values: ['sine', 'saw', 'square', 'white', 'pink', 'brown'],
    smoothingMs: 0,
    description: 'Waveform: 0 sine, 1 saw, 2 square, 3 white, 4 pink, 5 brown noise',
  },
  'filter/freq': { min: 50, max: 8000, default: 1000, unit: 'Hz', description: 'Lowpass cutoff (2-pole TPT state-variable filter)' },
  'filter/q': { min: 0.5, max: 10, default: 2, description: 'Lowpass resonance, linear Q (0.707 = no peak)' },
  'adsr/attack': { min: 0.001, max: 2, default: 0.01, unit: 'seconds', smoothingMs: 0, description: 'Attack time, 0 to 1' },
  'adsr/decay': { min: 0, max: 2, default: 0.1, unit: 'seconds', smoothingMs: 0, description: 'Decay time, 1 to sustain' },
  'adsr/sustain': {
    min: 0,
    max: 1,
    default: 0.7,
    smoothingMs: 0,
    description: 'Sustain level (a change glides over 5 ms inside the envelope)',
  },
  'adsr/release': { min: 0.01, max: 3, default: 0.5, unit: 'seconds', smoothingMs: 0, description: 'Release time, current level to 0' },
  'send/reverb': { min: 0, max: 1, default: 0, description: 'Send level to the reverb bus' },
  'send/delay': { min: 0, max: 1, default: 0, description: 'Send level to the delay bus' },
  slide_time: { min: 0, max: 1.5, default: 0, unit: 'seconds', smoothingMs: 0, description: 'Portamento: glide time to a new frequency (0 = jump)' },
} satisfies ParamTable;

/** One voice module: its DSP, the kernel's parameter objects and its tap buses (if opened). */
interface VoiceSlot {
  readonly dsp: VoiceDsp;
  readonly tapName: `tap:${string}`;
  readonly preName: `tap:${string}`;
  tap: Bus | undefined;
  pre: Bus | undefined;
  readonly freq: Param;
  readonly amp: Param;
  readonly type: Param;
  readonly cutoff: Param;
  readonly q: Param;
  readonly attack: Param;
  readonly decay: Param;
  readonly sustain: Param;
  readonly release: Param;
  readonly sendReverb: Param;
  readonly sendDelay: Param;
  readonly slide: Param;
}

function makeSlot(ctx: PluginContext, index: number): VoiceSlot {
  const p = (name: string): Param => ctx.param(index, name);
  const id = ctx.modules[index];
  const slot: VoiceSlot = {
    dsp: new VoiceDsp(ctx.sampleRate, ctx.maxBlock, index + 1),
    tapName: `tap:${id}`,
    preName: `tap:${id}:prefilter`,
    tap: undefined,
    pre: undefined,
    freq: p('freq'),
    amp: p('amp'),
    type: p('osc/type'),
    cutoff: p('filter/freq'),
    q: p('filter/q'),
    attack: p('adsr/attack'),
    decay: p('adsr/decay'),
    sustain: p('adsr/sustain'),
    release: p('adsr/release'),
    sendReverb: p('send/reverb'),
    sendDelay: p('send/delay'),
    slide: p('slide_time'),
  };
  slot.dsp.jumpTo(slot.freq.value);
  slot.dsp.setWaveform(slot.type.value);
  return slot;
}

/**
 * A voice's parameters, `NP` per voice in this order in one flat array: `gather` reads them all into
 * a Float64Array at each span start, in one short loop with nothing else in it — the loads of 128
 * voices' Param objects are independent, so the CPU overlaps their cache misses instead of taking
 * them one at a time inside the per-voice logic (measured: most of the plugin's JS time was those
 * misses).
 */
const NP = 12;
const P_FREQ = 0;
const P_AMP = 1;
const P_TYPE = 2;
const P_CUTOFF = 3;
const P_Q = 4;
const P_ATTACK = 5;
const P_DECAY = 6;
const P_SUSTAIN = 7;
const P_RELEASE = 8;
const P_SEND_R = 9;
const P_SEND_D = 10;
const P_SLIDE = 11;

function slotParams(s: VoiceSlot): Param[] {
  return [s.freq, s.amp, s.type, s.cutoff, s.q, s.attack, s.decay, s.sustain, s.release, s.sendReverb, s.sendDelay, s.slide];
}

/** Bits of a voice's `moving` flags (the parameters that may be smoothed). */
const M_FREQ = 1;
const M_AMP = 2;
const M_CUTOFF = 4;
const M_SENDS = 8;

/** Looks up the tap buses not found yet (no allocation: the names were built in create). */
function findTaps(ctx: PluginContext, s: VoiceSlot): void {
  if (s.tap === undefined) s.tap = ctx.findBus(s.tapName);
  if (s.pre === undefined) s.pre = ctx.findBus(s.preName);
}

/** Adds `src[start..end)` into both channels of `bus`. */
function addTo(bus: Bus, src: Float32Array, start: number, end: number): void {
  const l = bus.l;
  const r = bus.r;
  for (let i = start; i < end; i++) {
    l[i] += src[i];
    r[i] += src[i];
  }
}

/** Blocks between two looks for tap buses that did not exist yet. */
const TAP_RECHECK_BLOCKS = 32;

/** Whether `type` selects the saw (as Oscillator.setWaveform rounds it). */
function isSaw(type: number): boolean {
  return Math.round(type) === WAVE_SAW;
}

/** Adds `level` (moving: per sample from the param) × `src` into both channels of `bus`. */
function addSend(bus: Bus, src: Float32Array, start: number, end: number, level: Param): void {
  const l = bus.l;
  const r = bus.r;
  if (level.moving) {
    for (let i = start; i < end; i++) {
      const x = src[i] * level.next();
      l[i] += x;
      r[i] += x;
    }
    return;
  }
  const g = level.value;
  if (g <= 0) return;
  for (let i = start; i < end; i++) {
    const x = src[i] * g;
    l[i] += x;
    r[i] += x;
  }
}

/** A moving cutoff still this far (relative) from its target glides per RAMP_CHUNK chunk in the bank. */
const GLIDE_CHUNKED = 0.05;

/** Whether a moving cutoff is more than GLIDE_CHUNKED away from its target (a jump, not an LFO's step). */
function bigGlide(p: Param): boolean {
  if (!p.moving) return false;
  const d = p.target - p.value;
  return d > GLIDE_CHUNKED * p.value || -d > GLIDE_CHUNKED * p.value;
}

/**
 * A bank voice's cutoff for a whole span: at rest its value; while it moves by small steps (kernel
 * smoothing of a control-rate LFO's steps) its value at the span's middle, extrapolated from the
 * first step (one `next()`, whatever the smoother's curve) and kept between the value and the
 * target — the kernel lands the parameter on its curve at the span's end anyway. Coefficients per
 * span (per block, as a control-rate LFO steps them) instead of per sample: one next() per voice
 * and span instead of one per sample (13 ns each, measured). Larger glides (`bigGlide`) are
 * followed per RAMP_CHUNK on the kernel's curve. Written into `out[at]`: a returned number is boxed
 * when the call is not inlined.
 */
function spanCutoff(p: Param, frames: number, out: Float64Array, at: number): void {
  const v0 = p.value;
  if (!p.moving) {
    out[at] = v0;
    return;
  }
  const t = p.target;
  let mid = v0 + (p.next() - v0) * (frames * 0.5);
  if (t >= v0) {
    if (mid > t) mid = t;
    else if (mid < v0) mid = v0;
  } else if (mid < t) mid = t;
  else if (mid > v0) mid = v0;
  out[at] = mid;
}

/** Adds `g` × `src` into both channels of `bus`. */
function addScaled(bus: Bus, src: Float32Array, start: number, end: number, g: number): void {
  const l = bus.l;
  const r = bus.r;
  for (let i = start; i < end; i++) {
    const x = src[i] * g;
    l[i] += x;
    r[i] += x;
  }
}

export default definePlugin({
  params,
  gates: true,
  stateSchema: VoicesStateSchema,
  create(ctx: PluginContext) {
    const count = ctx.modules.length;
    const slots: VoiceSlot[] = [];
    for (let i = 0; i < count; i++) slots.push(makeSlot(ctx, i));
    const envs: Adsr[] = slots.map((s) => s.dsp.env);
    const params: Param[] = slots.flatMap(slotParams);
    /** The span's parameter values (NP per voice), read by `gather`. */
    const val = new Float64Array(count * NP);
    /** Per voice: the M_* bits of its parameters moving in this span; 1 while its envelope rests. */
    const moving = new Uint8Array(count);
    const idle = new Uint8Array(count);
    /** The span's envelope state of each non-idle voice (`readEnv`). */
    const envNow = new Float64Array(count * 3);
    /** The block controls last given to each dsp (attack, decay, sustain, release, slide): set only on a change. */
    const given = new Float64Array(count * 5).fill(NaN);
    /** Per voice: a slide is set (VoiceDsp.sliding); no tap bus is open (a bank voice has none). */
    const sliding = new Uint8Array(count);
    const tapless = new Uint8Array(count);
    const scratch = new Float32Array(ctx.maxBlock);
    const preScratch = new Float32Array(ctx.maxBlock);
    const main = ctx.bus('main');
    const reverb = ctx.bus('send:reverb');
    const delay = ctx.bus('send:delay');
    // One peak meter per voice, read (and reset) by the control thread for /viz/levels.
    const meters = ctx.meters(count);
    for (let i = 0; i < count; i++) lookForTaps(i);
    let blocksToRecheck = TAP_RECHECK_BLOCKS;

    let bank: VoiceBank | null = null;
    if (ctx.config.bank !== false) {
      try {
        bank = new VoiceBank(ctx.sampleRate, ctx.maxBlock, count);
      } catch (e) {
        ctx.log.warn(`voice bank unavailable (${(e as Error).message}); every voice renders in JS`);
      }
    }
    /** Per voice: rendered by the bank (lane = module index) rather than by its VoiceDsp; the `freq` its lane was tuned to. */
    const inBank = new Uint8Array(count);
    const bankFreq = new Float64Array(count);
    /** Bank voices of the current span (module indices, ascending). */
    const members = new Int32Array(count);

    function lookForTaps(v: number): void {
      const s = slots[v];
      findTaps(ctx, s);
      tapless[v] = s.tap === undefined && s.pre === undefined ? 1 : 0;
    }

    /** Voice v's parameter values and moving flags into `val` / `moving`. */
    function readParams(v: number): void {
      const i = v * NP;
      const freq = params[i + P_FREQ];
      const amp = params[i + P_AMP];
      const cutoff = params[i + P_CUTOFF];
      const sendR = params[i + P_SEND_R];
      const sendD = params[i + P_SEND_D];
      val[i + P_FREQ] = freq.value;
      val[i + P_AMP] = amp.value;
      val[i + P_TYPE] = params[i + P_TYPE].value;
      val[i + P_CUTOFF] = cutoff.value;
      val[i + P_Q] = params[i + P_Q].value;
      val[i + P_ATTACK] = params[i + P_ATTACK].value;
      val[i + P_DECAY] = params[i + P_DECAY].value;
      val[i + P_SUSTAIN] = params[i + P_SUSTAIN].value;
      val[i + P_RELEASE] = params[i + P_RELEASE].value;
      val[i + P_SEND_R] = sendR.value;
      val[i + P_SEND_D] = sendD.value;
      val[i + P_SLIDE] = params[i + P_SLIDE].value;
      moving[v] = (freq.moving ? M_FREQ : 0) | (amp.moving ? M_AMP : 0) | (cutoff.moving ? M_CUTOFF : 0) | (sendR.moving || sendD.moving ? M_SENDS : 0);
    }

    /** Voice v's envelope now (level, step per frame, frames left in the segment) into `envNow`. */
    function readEnv(v: number): void {
      const env = envs[v];
      envNow[3 * v] = env.level;
      envNow[3 * v + 1] = env.increment;
      envNow[3 * v + 2] = env.remaining;
    }

    /** At a span start: which voices are idle, and the parameters and envelopes of the others. */
    function gather(): void {
      for (let v = 0; v < count; v++) idle[v] = envs[v].isIdle() ? 1 : 0;
      for (let v = 0; v < count; v++) {
        if (idle[v] !== 0) continue;
        readParams(v);
        readEnv(v);
      }
    }

    /** Per-block controls from `val` (nothing to do when unchanged). */
    function syncBlockParams(v: number): void {
      const i = v * NP;
      const g = v * 5;
      const a = val[i + P_ATTACK];
      const d = val[i + P_DECAY];
      const su = val[i + P_SUSTAIN];
      const r = val[i + P_RELEASE];
      if (a !== given[g] || d !== given[g + 1] || su !== given[g + 2] || r !== given[g + 3]) {
        given[g] = a;
        given[g + 1] = d;
        given[g + 2] = su;
        given[g + 3] = r;
        slots[v].dsp.setEnvelope(a, d, su, r);
        readEnv(v);
      }
      const sl = val[i + P_SLIDE];
      if (sl !== given[g + 4]) {
        given[g + 4] = sl;
        const dsp = slots[v].dsp;
        dsp.setSlide(sl);
        sliding[v] = dsp.sliding ? 1 : 0;
      }
    }

    /**
     * Voice v moves into the bank at a span start (its waveform is already the saw). Its group's
     * lanes are rendered over every span while any is in the bank, so the group's last render
     * ended here (or its other lanes are unused).
     */
    function acquire(v: number): void {
      const dsp = slots[v].dsp;
      const f = val[v * NP + P_FREQ];
      dsp.jumpTo(f);
      (bank as VoiceBank).acquire(v, dsp);
      bankFreq[v] = f;
      inBank[v] = 1;
    }

    /** Voice v goes back to its VoiceDsp where its group's last render ended (a span start or end). */
    function release(v: number): void {
      (bank as VoiceBank).release(v, slots[v].dsp);
      inBank[v] = 0;
    }

    /**
     * Per bank voice of the current span (by module index), filled by `prepare`, so the bank's loops
     * below touch typed arrays, not objects: samples left in the envelope segment (0: holding), and
     * whether cutoff, amp or a send moves.
     */
    const segLeft = new Float64Array(count);
    const moves = new Uint8Array(count);
    /** One lane's numbers for a bank setter. */
    const lane = new Float64Array(4);
    /** Frames of the span being prepared. */
    let spanLength = 0;
    /**
     * The span's send levels when every bank voice has the same, resting ones (else perVoice): those
     * of the first bank voice, at `val[sendsAt + P_SEND_R / P_SEND_D]` (an index: a number kept in
     * a closure variable would be boxed at every store).
     */
    let sendsAt = 0;
    let perVoice = false;

    /**
     * Bank voice v in this span, before rendering (called by `process` per bank voice, in module
     * order): tunes its lane, sets its filter and gain for the span's first frames (exact unless its
     * envelope segment ends inside the span or a parameter moves; renderBank then updates them).
     */
    function prepare(v: number, first: boolean): void {
      const b = bank as VoiceBank;
      const i = v * NP;
      const f = val[i + P_FREQ];
      if (f !== bankFreq[v]) {
        bankFreq[v] = f;
        const dsp = slots[v].dsp;
        dsp.jumpTo(f);
        lane[0] = dsp.freq;
        b.setFrequency(v, lane, 0);
      }
      const m = moving[v];
      if (first) {
        sendsAt = i;
        perVoice = false;
      }
      const sendsMove = (m & M_SENDS) !== 0;
      const glide = (m & M_CUTOFF) !== 0 && bigGlide(params[i + P_CUTOFF]);
      const mv = (m & M_AMP) !== 0 || sendsMove || glide;
      if (sendsMove || val[i + P_SEND_R] !== val[sendsAt + P_SEND_R] || val[i + P_SEND_D] !== val[sendsAt + P_SEND_D]) perVoice = true;
      moves[v] = mv ? 1 : 0;
      segLeft[v] = envNow[3 * v + 2];
      if (!glide) {
        if ((m & M_CUTOFF) !== 0) spanCutoff(params[i + P_CUTOFF], spanLength, val, i + P_CUTOFF);
        b.setFilter(v, val, i + P_CUTOFF);
      }
      if (!mv) {
        const a = val[i + P_AMP];
        lane[0] = envNow[3 * v] * a;
        lane[1] = envNow[3 * v + 1] * a;
        b.setGain(v, lane, 0);
      }
    }

    /**
     * Lane v for the chunk [.., + len) when its envelope segment changed, amp or a send moves or the
     * cutoff glides far. Parameters advance with `skipParam` (it returns nothing) and the setters
     * read their numbers from `lane`: a number crossing a call V8 did not inline (this runs inlined
     * into the large renderBank) is boxed.
     */
    function update(b: VoiceBank, v: number, len: number): void {
      const s = slots[v];
      if (bigGlide(s.cutoff)) {
        // The cutoff at the chunk's middle on the kernel's own curve (then on to its end).
        const half = len >> 1;
        skipParam(s.cutoff, half);
        lane[0] = s.cutoff.value;
        lane[1] = s.q.value;
        b.setFilter(v, lane, 0);
        skipParam(s.cutoff, len - half);
      }
      const env = envs[v];
      const level = env.level;
      const inc = env.increment;
      const a0 = s.amp.value;
      let step = inc * a0;
      if (s.amp.moving) {
        skipParam(s.amp, len);
        step = ((level + len * inc) * s.amp.value - level * a0) / len;
      }
      lane[0] = level * a0;
      lane[1] = step;
      b.setGain(v, lane, 0);
      if (perVoice) {
        const r0 = s.sendReverb.value;
        const d0 = s.sendDelay.value;
        skipParam(s.sendReverb, len);
        skipParam(s.sendDelay, len);
        lane[0] = r0;
        lane[1] = (s.sendReverb.value - r0) / len;
        lane[2] = d0;
        lane[3] = (s.sendDelay.value - d0) / len;
        b.setSends(v, lane, 0);
      }
    }

    /** Renders the bank voices `members[0..n)` (prepared) over [start, end) and adds them into the buses. */
    function renderBank(n: number, start: number, end: number): void {
      const b = bank as VoiceBank;
      let m0 = 0;
      while (m0 < n) {
        const g = members[m0] >> 2;
        let m1 = m0 + 1;
        let moving = moves[members[m0]] !== 0;
        while (m1 < n && members[m1] >> 2 === g) {
          if (moves[members[m1]] !== 0) moving = true;
          m1++;
        }
        let pos = start;
        let fresh = true;
        while (pos < end) {
          // Up to the first envelope segment end of the group (and one ramp chunk while something moves).
          let len = end - pos;
          for (let m = m0; m < m1; m++) {
            const rem = segLeft[members[m]];
            if (rem > 0 && rem < len) len = rem;
          }
          if (moving && len > RAMP_CHUNK) len = RAMP_CHUNK;
          if (!fresh || moving || perVoice) {
            for (let m = m0; m < m1; m++) {
              const v = members[m];
              if (!fresh || moves[v] !== 0 || perVoice) update(b, v, len);
            }
          }
          b.render(g, pos, pos + len, perVoice);
          pos += len;
          fresh = false;
          for (let m = m0; m < m1; m++) {
            const v = members[m];
            const pk = b.peak(v);
            if (pk > meters[v]) meters[v] = pk;
            const env = envs[v];
            env.skip(len);
            segLeft[v] = env.remaining;
          }
        }
        for (let m = m0; m < m1; m++) if (envs[members[m]].isIdle()) release(members[m]);
        m0 = m1;
      }
      b.mix(start, end, perVoice);
      const out = b.outMain;
      if (perVoice) {
        addTo(main, out, start, end);
        addTo(reverb, b.outReverb, start, end);
        addTo(delay, b.outDelay, start, end);
      } else addWithSends(out, start, end);
    }

    /** `out` into main, and × the span's send levels into the send buses, in one pass. */
    function addWithSends(out: Float32Array, start: number, end: number): void {
      const ml = main.l;
      const mr = main.r;
      const rl = reverb.l;
      const rr = reverb.r;
      const dl = delay.l;
      const dr = delay.r;
      const gr = val[sendsAt + P_SEND_R];
      const gd = val[sendsAt + P_SEND_D];
      if (gr > 0 && gd > 0) {
        for (let i = start; i < end; i++) {
          const x = out[i];
          ml[i] += x;
          mr[i] += x;
          const xr = x * gr;
          rl[i] += xr;
          rr[i] += xr;
          const xd = x * gd;
          dl[i] += xd;
          dr[i] += xd;
        }
        return;
      }
      addTo(main, out, start, end);
      if (gr > 0) addScaled(reverb, out, start, end, gr);
      if (gd > 0) addScaled(delay, out, start, end, gd);
    }

    /** Voice v (not in the bank) by its VoiceDsp over [start, end), added into the buses. */
    function renderVoice(v: number, start: number, end: number): void {
      const s = slots[v];
      const dsp = s.dsp;
      let movingBits = 0;
      let freq = s.freq.value;
      if (dsp.sliding) {
        freq = s.freq.target;
      } else if (s.freq.moving) {
        s.freq.fill(dsp.freqIn, start, end);
        movingBits |= FREQ_MOVING;
      }
      const amp = s.amp.value;
      if (s.amp.moving) {
        s.amp.fill(dsp.ampIn, start, end);
        movingBits |= AMP_MOVING;
      }
      const cutoff = s.cutoff.value;
      if (s.cutoff.moving) {
        s.cutoff.fill(dsp.cutoffIn, start, end);
        movingBits |= CUTOFF_MOVING;
      }
      const pre = s.pre;
      const c = dsp.controls;
      c[CTL_FREQ] = freq;
      c[CTL_AMP] = amp;
      c[CTL_CUTOFF] = cutoff;
      c[CTL_Q] = s.q.value;
      dsp.render(scratch, start, end, movingBits, pre === undefined ? null : preScratch);
      const l = main.l;
      const r = main.r;
      let peak = meters[v];
      for (let i = start; i < end; i++) {
        const x = scratch[i];
        l[i] += x;
        r[i] += x;
        const ax = x < 0 ? -x : x;
        if (ax > peak) peak = ax;
      }
      meters[v] = peak;
      addSend(reverb, scratch, start, end, s.sendReverb);
      addSend(delay, scratch, start, end, s.sendDelay);
      if (s.tap !== undefined) addTo(s.tap, scratch, start, end);
      if (pre !== undefined) addTo(pre, preScratch, start, end);
    }

    /** Between blocks: every bank voice back to its VoiceDsp (at the next block's first frame). */
    function releaseAll(): void {
      for (let v = 0; v < count; v++) if (inBank[v] !== 0) release(v);
    }

    for (let v = 0; v < count; v++) {
      readParams(v);
      syncBlockParams(v);
    }

    return {
      beginBlock(): void {
        if (--blocksToRecheck > 0) return;
        blocksToRecheck = TAP_RECHECK_BLOCKS;
        for (let i = 0; i < count; i++) {
          const s = slots[i];
          if (s.tap === undefined || s.pre === undefined) lookForTaps(i);
        }
      },

      process(start: number, end: number): void {
        if (end <= start) return;
        spanLength = end - start;
        gather();
        let n = 0;
        for (let v = 0; v < count; v++) {
          if (idle[v] !== 0) {
            if (inBank[v] !== 0) release(v);
            continue;
          }
          syncBlockParams(v);
          const type = val[v * NP + P_TYPE];
          if (bank !== null) {
            const eligible = isSaw(type) && sliding[v] === 0 && (moving[v] & M_FREQ) === 0 && tapless[v] !== 0;
            if (inBank[v] !== 0 && !eligible) release(v);
            if (inBank[v] === 0) {
              slots[v].dsp.setWaveform(type);
              if (eligible) acquire(v);
            }
            if (inBank[v] !== 0) {
              prepare(v, n === 0);
              members[n++] = v;
              continue;
            }
          } else {
            slots[v].dsp.setWaveform(type);
          }
          renderVoice(v, start, end);
        }
        if (n > 0) renderBank(n, start, end);
      },

      gate(module: number, value: number): void {
        const s = slots[module];
        if (s === undefined) return;
        if (value > 0) {
          readParams(module);
          syncBlockParams(module);
        }
        s.dsp.gate(value);
      },

      getState(): unknown {
        // Between blocks: the bank hands its voices back (at the next block's first frame) so each
        // VoiceDsp holds the whole state; they return to the bank at the next span.
        releaseAll();
        return { v: 1, voices: slots.map((s) => s.dsp.getState()) };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds (NaN, 1e15 in a filter) changes nothing.
        const parsed = VoicesStateSchema.safeParse(state);
        if (!parsed.success) return;
        const voices = parsed.data.voices;
        if (voices === undefined) return;
        releaseAll();
        const n = Math.min(voices.length, count);
        for (let i = 0; i < n; i++) {
          const s = slots[i];
          readParams(i);
          syncBlockParams(i);
          s.dsp.setWaveform(s.type.value);
          s.dsp.setState(voices[i] as Partial<VoiceState> | null);
        }
      },
    };
  },
});

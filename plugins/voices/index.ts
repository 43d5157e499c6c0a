/**
 * The `voices` plugin: binds the parameter table of each voice module (voice1..voiceN) to `VoiceDsp`
 * and, for saw voices, to the SIMD `VoiceBank` (bank.ts) that renders them four at a time.
 *
 * | hook      | thread / when                     | does                                                    |
 * | --------- | --------------------------------- | ------------------------------------------------------- |
 * | create    | audio thread, between blocks      | one VoiceDsp per module, the VoiceBank (wasm, ~1 ms),   |
 * |           |                                   | keeps the kernel Param objects                          |
 * | gate      | inside a block, at the event      | opens (attack) or releases voice `module`               |
 * | beginBlock| block start                       | every 32 blocks, looks again for tap buses not found yet |
 * | process   | inside a block, frames [start,end) | renders each non-idle voice; ADDS it to `main` (l = r)  |
 * |           |                                   | and voice × send level to `send:reverb`, `send:delay`   |
 * |           |                                   | and, where those buses exist, to `tap:<id>` (stems,     |
 * |           |                                   | acid1) and its pre-filter signal to `tap:<id>:prefilter` |
 * | getState  | between blocks                    | `{ v: 1, voices: [VoiceState…] }`                       |
 * | setState  | between blocks (after create)     | restores held notes; tolerates missing fields           |
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
import { definePlugin, RAMP_CHUNK, skipParam, WAVE_SAW, type Bus, type Param, type ParamTable, type PluginContext } from 'plugin-sdk';
import { VoiceBank } from './bank.ts';
import { AMP_MOVING, CUTOFF_MOVING, FREQ_MOVING, VoiceDsp, type VoiceState } from './dsp.ts';

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
  /** The block controls last given to the dsp (setEnvelope/setSlide run only when one changed). */
  envA: number;
  envD: number;
  envS: number;
  envR: number;
  slideS: number;
  /** Rendered by the bank (lane = module index) rather than by `dsp`. */
  inBank: boolean;
  /** The `freq` value the bank lane was tuned to. */
  bankFreq: number;
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
    envA: NaN,
    envD: NaN,
    envS: NaN,
    envR: NaN,
    slideS: NaN,
    inBank: false,
    bankFreq: NaN,
  };
  slot.dsp.jumpTo(slot.freq.value);
  slot.dsp.setWaveform(slot.type.value);
  syncBlockParams(slot);
  return slot;
}

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

/** Per-block controls (nothing to do when unchanged). */
function syncBlockParams(s: VoiceSlot): void {
  const a = s.attack.value;
  const d = s.decay.value;
  const su = s.sustain.value;
  const r = s.release.value;
  if (a !== s.envA || d !== s.envD || su !== s.envS || r !== s.envR) {
    s.envA = a;
    s.envD = d;
    s.envS = su;
    s.envR = r;
    s.dsp.setEnvelope(a, d, su, r);
  }
  const sl = s.slide.value;
  if (sl !== s.slideS) {
    s.slideS = sl;
    s.dsp.setSlide(sl);
  }
}

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
 * followed per RAMP_CHUNK on the kernel's curve.
 */
function spanCutoff(p: Param, frames: number): number {
  const v0 = p.value;
  if (!p.moving) return v0;
  const t = p.target;
  let mid = v0 + (p.next() - v0) * (frames * 0.5);
  if (t >= v0) {
    if (mid > t) mid = t;
    else if (mid < v0) mid = v0;
  } else if (mid < t) mid = t;
  else if (mid > v0) mid = v0;
  return mid;
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
  create(ctx: PluginContext) {
    const count = ctx.modules.length;
    const slots: VoiceSlot[] = [];
    for (let i = 0; i < count; i++) slots.push(makeSlot(ctx, i));
    const scratch = new Float32Array(ctx.maxBlock);
    const preScratch = new Float32Array(ctx.maxBlock);
    const main = ctx.bus('main');
    const reverb = ctx.bus('send:reverb');
    const delay = ctx.bus('send:delay');
    // One peak meter per voice, read (and reset) by the control thread for /viz/levels.
    const meters = ctx.meters(count);
    for (let i = 0; i < count; i++) findTaps(ctx, slots[i]);
    let blocksToRecheck = TAP_RECHECK_BLOCKS;

    let bank: VoiceBank | null = null;
    if (ctx.config.bank !== false) {
      try {
        bank = new VoiceBank(ctx.sampleRate, ctx.maxBlock, count);
      } catch (e) {
        ctx.log.warn(`voice bank unavailable (${(e as Error).message}); every voice renders in JS`);
      }
    }
    /** Bank voices of the current span (module indices, ascending). */
    const members = new Int32Array(count);
    /** Per bank group: how many of its lanes the bank renders now. */
    const groupOwned = new Int32Array(bank === null ? 0 : bank.groupCount);
    /**
     * Where the last span ended in its block (the bank's look-ahead rows start there). A span at
     * frame 0 begins a new block: the look-ahead moves to the front then — in `process`, not in
     * `beginBlock`, which the kernel does not call on a version fading out after a hot reload.
     */
    let lastEnd = 0;

    /** Voice v moves into the bank at block frame `at` (its waveform is already the saw). */
    function acquire(v: number, at: number): void {
      const s = slots[v];
      const dsp = s.dsp;
      dsp.jumpTo(s.freq.value);
      (bank as VoiceBank).acquire(v, dsp.osc, dsp.filter, dsp.freq, at);
      s.bankFreq = s.freq.value;
      s.inBank = true;
      groupOwned[v >> 2]++;
    }

    /** Voice v goes back to its VoiceDsp at block frame `at`. */
    function release(v: number, at: number): void {
      const s = slots[v];
      (bank as VoiceBank).release(v, s.dsp.osc, s.dsp.filter, s.dsp.freq, at);
      s.inBank = false;
      groupOwned[v >> 2]--;
    }

    /**
     * Per bank voice of the current span (by module index), filled by `process` in the same pass
     * that classifies the voices, so the bank's loops below touch typed arrays, not objects:
     * samples left in the envelope segment (0: holding), and whether cutoff, amp or a send moves.
     */
    const segLeft = new Float64Array(count);
    const moves = new Uint8Array(count);
    /** Frames of the span being prepared. */
    let spanLength = 0;
    /** The span's send levels when every bank voice has the same, resting ones (else perVoice). */
    let sendR = 0;
    let sendD = 0;
    let perVoice = false;

    /**
     * Bank voice v in this span, before rendering (called by `process` per bank voice, in module
     * order): tunes its lane, sets its filter and gain for the span's first frames (exact unless its
     * envelope segment ends inside the span or a parameter moves; renderBank then updates them).
     */
    function prepare(v: number, s: VoiceSlot, first: boolean): void {
      const b = bank as VoiceBank;
      const f = s.freq.value;
      if (f !== s.bankFreq) {
        s.bankFreq = f;
        s.dsp.jumpTo(f);
        b.setFrequency(v, s.dsp.freq);
      }
      const sr = s.sendReverb;
      const sd = s.sendDelay;
      if (first) {
        sendR = sr.value;
        sendD = sd.value;
        perVoice = false;
      }
      const sendsMove = sr.moving || sd.moving;
      const glide = bigGlide(s.cutoff);
      const mv = s.amp.moving || sendsMove || glide;
      if (sendsMove || sr.value !== sendR || sd.value !== sendD) perVoice = true;
      moves[v] = mv ? 1 : 0;
      const env = s.dsp.env;
      segLeft[v] = env.remaining;
      if (!glide) b.setFilter(v, spanCutoff(s.cutoff, spanLength), s.q.value);
      if (!mv) {
        const a = s.amp.value;
        b.setGain(v, env.level * a, env.increment * a);
      }
    }

    /**
     * Lane v for the chunk [.., + len) when its envelope segment changed, amp or a send moves or the
     * cutoff glides far. Parameters advance with `skipParam` and one call per bank setter: a number
     * crossing a call V8 did not inline (this runs inlined into the large renderBank) is boxed.
     */
    function update(b: VoiceBank, v: number, len: number): void {
      const s = slots[v];
      if (bigGlide(s.cutoff)) {
        // The cutoff at the chunk's middle on the kernel's own curve (then on to its end).
        const half = len >> 1;
        skipParam(s.cutoff, half);
        b.setFilter(v, s.cutoff.value, s.q.value);
        skipParam(s.cutoff, len - half);
      }
      const env = s.dsp.env;
      const level = env.level;
      const inc = env.increment;
      const a0 = s.amp.value;
      let step = inc * a0;
      if (s.amp.moving) {
        skipParam(s.amp, len);
        step = ((level + len * inc) * s.amp.value - level * a0) / len;
      }
      b.setGain(v, level * a0, step);
      if (perVoice) {
        const r0 = s.sendReverb.value;
        const d0 = s.sendDelay.value;
        skipParam(s.sendReverb, len);
        skipParam(s.sendDelay, len);
        b.setSends(v, r0, (s.sendReverb.value - r0) / len, d0, (s.sendDelay.value - d0) / len);
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
            const env = slots[v].dsp.env;
            env.skip(len);
            segLeft[v] = env.remaining;
          }
        }
        for (let m = m0; m < m1; m++) if (slots[members[m]].dsp.isIdle()) release(members[m], end);
        m0 = m1;
      }
      b.mix(start, end, perVoice);
      const l = main.l;
      const r = main.r;
      const out = b.outMain;
      for (let i = start; i < end; i++) {
        const x = out[i];
        l[i] += x;
        r[i] += x;
      }
      if (perVoice) {
        addTo(reverb, b.outReverb, start, end);
        addTo(delay, b.outDelay, start, end);
      } else {
        if (sendR > 0) addScaled(reverb, out, start, end, sendR);
        if (sendD > 0) addScaled(delay, out, start, end, sendD);
      }
    }

    return {
      beginBlock(): void {
        if (--blocksToRecheck > 0) return;
        blocksToRecheck = TAP_RECHECK_BLOCKS;
        for (let i = 0; i < count; i++) {
          const s = slots[i];
          if (s.tap === undefined || s.pre === undefined) findTaps(ctx, s);
        }
      },

      process(start: number, end: number): void {
        if (end <= start) return;
        spanLength = end - start;
        if (start === 0 && lastEnd > 0 && bank !== null) {
          for (let g = 0; g < groupOwned.length; g++) if (groupOwned[g] > 0) bank.shift(g, lastEnd);
        }
        lastEnd = end;
        const l = main.l;
        const r = main.r;
        let n = 0;
        for (let v = 0; v < count; v++) {
          const s = slots[v];
          const dsp = s.dsp;
          if (dsp.isIdle()) {
            if (s.inBank) release(v, start);
            continue;
          }
          syncBlockParams(s);
          if (bank !== null) {
            const eligible = isSaw(s.type.value) && !dsp.sliding && !s.freq.moving && s.tap === undefined && s.pre === undefined;
            if (s.inBank && !eligible) release(v, start);
            if (!s.inBank) {
              dsp.setWaveform(s.type.value);
              if (eligible) acquire(v, start);
            }
            if (s.inBank) {
              prepare(v, s, n === 0);
              members[n++] = v;
              continue;
            }
          } else {
            dsp.setWaveform(s.type.value);
          }
          let moving = 0;
          let freq = s.freq.value;
          if (dsp.sliding) {
            freq = s.freq.target;
          } else if (s.freq.moving) {
            const buf = dsp.freqIn;
            const p = s.freq;
            p.fill(buf, start, end);
            moving |= FREQ_MOVING;
          }
          const amp = s.amp.value;
          if (s.amp.moving) {
            const buf = dsp.ampIn;
            const p = s.amp;
            p.fill(buf, start, end);
            moving |= AMP_MOVING;
          }
          const cutoff = s.cutoff.value;
          if (s.cutoff.moving) {
            const buf = dsp.cutoffIn;
            const p = s.cutoff;
            p.fill(buf, start, end);
            moving |= CUTOFF_MOVING;
          }
          const pre = s.pre;
          dsp.render(scratch, start, end, freq, amp, cutoff, s.q.value, moving, pre === undefined ? null : preScratch);
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
        if (n > 0) renderBank(n, start, end);
      },

      gate(module: number, value: number): void {
        const s = slots[module];
        if (s === undefined) return;
        if (value > 0) syncBlockParams(s);
        s.dsp.gate(value);
      },

      getState(): unknown {
        // Between blocks: the bank hands its voices back (at the next block's first frame) so each
        // VoiceDsp holds the whole state; they return to the bank at the next span.
        for (let v = 0; v < count; v++) if (slots[v].inBank) release(v, lastEnd);
        return { v: 1, voices: slots.map((s) => s.dsp.getState()) };
      },

      setState(state: unknown): void {
        if (state === null || typeof state !== 'object') return;
        const voices = (state as { voices?: unknown }).voices;
        if (!Array.isArray(voices)) return;
        for (let v = 0; v < count; v++) if (slots[v].inBank) release(v, lastEnd);
        const n = Math.min(voices.length, count);
        for (let i = 0; i < n; i++) {
          const s = slots[i];
          syncBlockParams(s);
          s.dsp.setWaveform(s.type.value);
          s.dsp.setState(voices[i] as Partial<VoiceState> | null);
        }
      },
    };
  },
});

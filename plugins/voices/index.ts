/**
 * The `voices` plugin: binds the parameter table of each voice module (voice1..voiceN) to `VoiceDsp`.
 *
 * | hook      | thread / when                     | does                                                    |
 * | --------- | --------------------------------- | ------------------------------------------------------- |
 * | create    | audio thread, between blocks      | one VoiceDsp per module, keeps the kernel Param objects |
 * | gate      | inside a block, at the event      | opens (attack) or releases voice `module`               |
 * | beginBlock| block start                       | every 32 blocks, looks again for tap buses not found yet |
 * | process   | inside a block, frames [start,end) | renders each non-idle voice; ADDS it to `main` (l = r)  |
 * |           |                                   | and voice × send level to `send:reverb`, `send:delay`   |
 * |           |                                   | and, where those buses exist, to `tap:<id>` (stems,     |
 * |           |                                   | acid1) and its pre-filter signal to `tap:<id>:prefilter` |
 * | getState  | between blocks                    | `{ v: 1, voices: [VoiceState…] }`                       |
 * | setState  | between blocks (after create)     | restores held notes; tolerates missing fields           |
 *
 * Taps (agreed with the recorder and acid plugins): a voice never creates them; it looks them up with
 * `ctx.findBus` (in create, then every 32 blocks for the ones still missing, so a plugin loaded later
 * is picked up within ~0.2 s) and ADDS into them: `tap:voiceN` gets exactly what voiceN added to
 * `main` (recorder stems, `plugins.recorder.tap = "stems"`; acid1 subtracts it), `tap:voiceN:prefilter`
 * gets oscillator × envelope × amp before the voice's own lowpass (what acid1 filters instead).
 * A voice whose taps were not opened costs one undefined check each.
 *
 * Moving parameters (kernel smoothing) are read per sample with `p.next()`; at rest `p.value` is used
 * for the whole block. With a slide time set, the voice glides to the parameter's target itself, so
 * the unsmoothed `p.target` is fed instead (the slide reaches the new pitch in exactly slide_time).
 */
import { definePlugin, type Bus, type Param, type ParamTable, type PluginContext } from 'plugin-sdk';
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

/** Per-block controls (cheap when unchanged). */
function syncBlockParams(s: VoiceSlot): void {
  s.dsp.setEnvelope(s.attack.value, s.decay.value, s.sustain.value, s.release.value);
  s.dsp.setSlide(s.slide.value);
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
        const l = main.l;
        const r = main.r;
        for (let v = 0; v < count; v++) {
          const s = slots[v];
          const dsp = s.dsp;
          if (dsp.isIdle()) continue;
          syncBlockParams(s);
          dsp.setWaveform(s.type.value);
          let moving = 0;
          let freq = s.freq.value;
          if (dsp.sliding) {
            freq = s.freq.target;
          } else if (s.freq.moving) {
            const buf = dsp.freqIn;
            const p = s.freq;
            for (let i = start; i < end; i++) buf[i] = p.next();
            moving |= FREQ_MOVING;
          }
          const amp = s.amp.value;
          if (s.amp.moving) {
            const buf = dsp.ampIn;
            const p = s.amp;
            for (let i = start; i < end; i++) buf[i] = p.next();
            moving |= AMP_MOVING;
          }
          const cutoff = s.cutoff.value;
          if (s.cutoff.moving) {
            const buf = dsp.cutoffIn;
            const p = s.cutoff;
            for (let i = start; i < end; i++) buf[i] = p.next();
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
      },

      gate(module: number, value: number): void {
        const s = slots[module];
        if (s === undefined) return;
        if (value > 0) syncBlockParams(s);
        s.dsp.gate(value);
      },

      getState(): unknown {
        return { v: 1, voices: slots.map((s) => s.dsp.getState()) };
      },

      setState(state: unknown): void {
        if (state === null || typeof state !== 'object') return;
        const voices = (state as { voices?: unknown }).voices;
        if (!Array.isArray(voices)) return;
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

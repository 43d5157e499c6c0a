/**
 * The `sampler` plugin's audio half (modules `drum1`…`drum8`): a drum kit of one-shot samples.
 * The control half (control.ts) reads `samples/drumN[-name].wav` and publishes each drum's sample
 * under its module id; this half plays them on their gates (see dsp.ts for the voices).
 *
 * | hook    | thread / when                      | does                                                    |
 * | ------- | ---------------------------------- | ------------------------------------------------------- |
 * | create  | audio thread, between blocks       | a DrumKit; each drum's sample as published so far       |
 * | gate    | inside a block, at the gate's frame| value > 0: a hit at amp × min(value, 1) (0: nothing —   |
 * |         |                                    | one-shots play to their end or their decay)             |
 * | process | inside a block, frames [start,end) | every sounding drum into `main` and, × its `send/<bus>` |
 * |         |                                    | level, into each send bus; pitch per sample while it   |
 * |         |                                    | moves, decay per span                                   |
 * | shared  | between blocks                     | a drum's new sample (or none): next hits play it, hits  |
 * |         |                                    | sounding finish the one they started with               |
 * | getState| between blocks                     | 'reload': `{ v: 1, voices }`, the hits sounding (dsp.ts),|
 * |         |                                    | none while none sounds; 'save': none (patterns keep no hits)|
 * | setState| between blocks (after create)      | the hits in place of those sounding; ignores a state    |
 * |         |                                    | that fails state.ts                                     |
 *
 * Samples come back from the control half's shared values (they outlive a reload); the hits in
 * flight are state, so a hot reload or a session snapshot carries them on exactly.
 */
import { definePlugin, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { decayCoefficient, DECAY_OFF_S, DrumKit, pitchRatio } from './dsp.ts';
import { asSample } from './sample.ts';
import { SamplerStateSchema } from './state.ts';

const params = {
  pitch: { min: -24, max: 24, default: 0, unit: 'semitones', description: 'Playback pitch: +12 plays the sample twice as fast (an octave up), −12 half as fast' },
  decay: {
    min: 0.01,
    max: DECAY_OFF_S,
    default: DECAY_OFF_S,
    unit: 's',
    smoothingMs: 0,
    description: `Time for a hit to fall by 60 dB; ${DECAY_OFF_S} (the maximum) leaves the sample as it is`,
  },
  amp: {
    min: 0,
    max: 1,
    default: 0.8,
    smoothingMs: 0,
    description: 'Level of a hit, taken when it is triggered (a sequencer track sets it per step: base_amp × velocity)',
  },
} satisfies ParamTable;

/** Adds `src[start, end)` into `dst` × the per-sample `levels` when `moving`, else × `g`. */
function addScaled(dst: Float32Array, src: Float32Array, moving: boolean, levels: Float32Array, g: number, start: number, end: number): void {
  if (moving) {
    for (let i = start; i < end; i++) dst[i] += src[i] * levels[i];
  } else if (g !== 0) {
    for (let i = start; i < end; i++) dst[i] += src[i] * g;
  }
}

export default definePlugin({
  params,
  gates: true,
  // Every drum gets send/<bus> for each send bus a loaded plugin declares (ctx.sends).
  sends: true,
  stateSchema: SamplerStateSchema,
  create(ctx: PluginContext) {
    const n = ctx.modules.length;
    const kit = new DrumKit(n, ctx.sampleRate);
    const pitch = ctx.modules.map((_, m) => ctx.param(m, 'pitch'));
    const decay = ctx.modules.map((_, m) => ctx.param(m, 'decay'));
    const amp = ctx.modules.map((_, m) => ctx.param(m, 'amp'));
    const rates = new Float32Array(ctx.maxBlock);
    const main = ctx.bus('main');
    const sends = ctx.sends;
    const levels = sends.map((s) => ctx.modules.map((_, m) => s.level(m)));
    // A drum is rendered here first, then added into main and each send bus.
    const dryL = new Float32Array(ctx.maxBlock);
    const dryR = new Float32Array(ctx.maxBlock);
    const levelL = new Float32Array(ctx.maxBlock);
    const setSample = (m: number, value: unknown): void => {
      const sample = asSample(value);
      if (value != null && sample === null) ctx.log.warn(`${ctx.modules[m]}: ignored a shared value that is not a sample`);
      kit.setSample(m, sample?.left ?? null, sample?.right ?? null);
    };
    ctx.modules.forEach((id, m) => setSample(m, ctx.shared(id)));
    const sr = ctx.sampleRate;

    return {
      gate(module: number, value: number): void {
        if (value > 0) kit.trigger(module, amp[module].value * (value < 1 ? value : 1));
      },
      process(start: number, end: number): void {
        for (let m = 0; m < n; m++) {
          // Levels move with their smoothing whether the drum sounds or not.
          if (!kit.sounding(m)) {
            for (let s = 0; s < sends.length; s++) if (levels[s][m].moving) levels[s][m].advance(end - start);
            continue;
          }
          const p = pitch[m];
          const coef = decayCoefficient(decay[m].value, sr);
          dryL.fill(0, start, end);
          dryR.fill(0, start, end);
          if (p.moving) {
            p.fill(rates, start, end);
            for (let i = start; i < end; i++) rates[i] = pitchRatio(rates[i]);
            kit.render(m, dryL, dryR, start, end, rates, 1, coef);
          } else {
            kit.render(m, dryL, dryR, start, end, null, pitchRatio(p.value), coef);
          }
          for (let i = start; i < end; i++) {
            main.l[i] += dryL[i];
            main.r[i] += dryR[i];
          }
          for (let s = 0; s < sends.length; s++) {
            const level = levels[s][m];
            const moving = level.moving;
            if (moving) level.fill(levelL, start, end);
            addScaled(sends[s].bus.l, dryL, moving, levelL, level.value, start, end);
            addScaled(sends[s].bus.r, dryR, moving, levelL, level.value, start, end);
          }
        }
      },
      getState(purpose?: StatePurpose): unknown {
        if (purpose !== 'reload') return undefined;
        const voices = kit.getState();
        return voices.length > 0 ? { v: 1, voices } : undefined;
      },
      setState(state: unknown): void {
        const parsed = SamplerStateSchema.safeParse(state);
        if (parsed.success) kit.setState(parsed.data.voices);
      },
      shared(name: string, value: unknown): void {
        const m = ctx.modules.indexOf(name);
        if (m >= 0) setSample(m, value);
      },
    };
  },
});

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
 * | process | inside a block, frames [start,end) | every sounding drum into `main`; pitch per sample while |
 * |         |                                    | it moves, decay per span                                |
 * | shared  | between blocks                     | a drum's new sample (or none): next hits play it, hits  |
 * |         |                                    | sounding finish the one they started with               |
 *
 * No state: samples come back from the control half's shared values (they outlive a reload), and
 * hits in flight are not worth carrying over (a reload crossfades them out).
 */
import { definePlugin, type ParamTable, type PluginContext } from 'plugin-sdk';
import { decayCoefficient, DECAY_OFF_S, DrumKit, pitchRatio } from './dsp.ts';
import { asSample } from './sample.ts';

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

export default definePlugin({
  params,
  gates: true,
  create(ctx: PluginContext) {
    const n = ctx.modules.length;
    const kit = new DrumKit(n, ctx.sampleRate);
    const pitch = ctx.modules.map((_, m) => ctx.param(m, 'pitch'));
    const decay = ctx.modules.map((_, m) => ctx.param(m, 'decay'));
    const amp = ctx.modules.map((_, m) => ctx.param(m, 'amp'));
    const rates = new Float32Array(ctx.maxBlock);
    const main = ctx.bus('main');
    // Sends: none yet. Once send buses are declared (DESIGN.md "Buses are declared") the kernel
    // generates `send/<bus>` parameters for sources: read them here and add each drum into its bus.
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
          if (!kit.sounding(m)) continue;
          const p = pitch[m];
          const coef = decayCoefficient(decay[m].value, sr);
          if (p.moving) {
            p.fill(rates, start, end);
            for (let i = start; i < end; i++) rates[i] = pitchRatio(rates[i]);
            kit.render(m, main.l, main.r, start, end, rates, 1, coef);
          } else {
            kit.render(m, main.l, main.r, start, end, null, pitchRatio(p.value), coef);
          }
        }
      },
      shared(name: string, value: unknown): void {
        const m = ctx.modules.indexOf(name);
        if (m >= 0) setSample(m, value);
      },
    };
  },
});

/**
 * The `acid` plugin (module `acid1`): a TB-303-style resonant ladder filter on voice2.
 *
 * Wiring (agreed with the kernel and the voices plugin): the voices plugin writes voice2's
 * PRE-filter signal (oscillator × envelope × amp, before its own lowpass) into the bus
 * `tap:voice2:prefilter`, and its normal (post-filter) output both into `main` and into `tap:voice2`.
 * acid1 is a `main` effect that runs before the other main effects (order -10). It filters the
 * pre-filter tap and crossfades voice2's contribution to `main`, linearly:
 *
 *     main += mix · (acid(tap:voice2:prefilter) − tap:voice2)
 *
 * so at mix 0 `main` is untouched, at mix 1 voice2's own filtered sound is replaced by the acid
 * filter's, and in between it is (1 − mix)·voice2 + mix·acid. Linear, not equal-power: the two
 * signals come from the same oscillator and are strongly correlated, so a linear crossfade keeps
 * the level steady where an equal-power one would bulge by up to 3 dB at mix 0.5.
 *
 * Gates: acid1 follows voice2's gates (`gateFollows`): every gate of voice2, from OSC or the
 * sequencer, reaches acid1 at the same sample (OSC.md: `/gate/voice2` also triggers acid1's
 * envelope), and the old `/gate/acid1` is the kernel's alias of `/gate/voice2`.
 *
 * | hook        | thread / when                      | does                                                  |
 * | ----------- | ---------------------------------- | ----------------------------------------------------- |
 * | create      | audio thread, between blocks       | the AcidFilter, the kernel Param objects, the buses   |
 * | gate        | inside a block, at the event       | value > 0: latch the accent, start the envelope       |
 * | process     | inside a block, frames [start,end) | filters the tap and crossfades voice2 in `main`       |
 * | getState    | between blocks                     | `{ v: 1, filter: AcidState }`                         |
 * | stateSchema | control / audio, between blocks    | state.ts: bounded envelope and ladder memories        |
 * | setState    | between blocks (after create)      | restores envelope, accent and ladder states; ignores  |
 * |             |                                    | a state that fails stateSchema                        |
 *
 * Moving parameters are read per sample with `p.next()`; at rest `p.value` holds for the span.
 * When mix is 0, or the tap is silent and the ladders have rung out, only the envelope advances.
 * A mono tap (left = right over the span, as voices writes it) runs one ladder instead of two.
 */
import { definePlugin, type Param, type ParamTable, type PluginContext } from 'plugin-sdk';
import { AcidFilter, type AcidState } from './dsp.ts';
import { AcidStateSchema } from './state.ts';

const params = {
  cutoff: { min: 80, max: 5000, default: 1500, unit: 'Hz', description: 'Base cutoff of the ladder filter' },
  res: { min: 0, max: 0.98, default: 0.45, description: 'Resonance (0.98 = edge of self-oscillation); thinned below 400 Hz like a 303' },
  env_amount: { min: 0, max: 5000, default: 2500, unit: 'Hz', description: 'Envelope sweep added to the cutoff at the envelope peak' },
  decay: { min: 0.02, max: 1, default: 0.25, unit: 'seconds', smoothingMs: 0, description: 'Envelope decay: peak to 1 % (gate-off does not cut it short)' },
  drive: { min: 0, max: 1, default: 0.2, description: 'Pre-filter tanh drive (level-compensated)' },
  mix: { min: 0, max: 1, default: 1, description: 'Linear crossfade of voice2 from its own filter (0) to the acid filter (1)' },
  vol_comp: { min: 0, max: 1, default: 0.5, description: 'Makes up the ladder passband loss at high resonance: gain 1 + vol_comp·4·res' },
  accent: { min: 0, max: 1, default: 0, smoothingMs: 0, description: 'Accent of the next notes, latched at gate time (a gate value > 1 also accents)' },
  cutoff_offset: { min: 0, max: 1000, default: 300, unit: 'Hz', description: 'Cutoff added on an accented note (× accent)' },
  res_accent_boost: { min: 0, max: 0.4, default: 0.2, description: 'Resonance added on an accented note (× accent)' },
  accent_decay: { min: 0.02, max: 0.15, default: 0.05, unit: 'seconds', smoothingMs: 0, description: 'Envelope decay of an accented note (the shorter of this and decay)' },
} satisfies ParamTable;

/** Plain-JSON plugin state. */
interface PluginState {
  v: 1;
  filter: AcidState;
}

export default definePlugin({
  params,
  gates: true,
  gateFollows: { acid1: 'voice2' },
  stateSchema: AcidStateSchema,
  /** Music Chronus slot files: its old `acid{n}` sections (`accent_disabled` is read and dropped). */
  legacy: {
    modules: {
      pattern: 'acid{n}',
      fields: {
      voice_id: { label: 'text' },
      cutoff: 'cutoff',
      res: 'res',
      env_amount: 'env_amount',
      decay: 'decay',
      drive: 'drive',
      mix: 'mix',
      vol_comp: 'vol_comp',
      accent: 'accent',
      cutoff_offset: 'cutoff_offset',
      res_accent_boost: 'res_accent_boost',
      accent_decay: 'accent_decay',
      accent_disabled: { label: 'flag' },
      },
    },
  },
  create(ctx: PluginContext) {
    const p = (name: string): Param => ctx.param(0, name);
    const cutoff = p('cutoff');
    const res = p('res');
    const envAmount = p('env_amount');
    const decay = p('decay');
    const drive = p('drive');
    const mix = p('mix');
    const volComp = p('vol_comp');
    const accent = p('accent');
    const cutoffOffset = p('cutoff_offset');
    const resAccentBoost = p('res_accent_boost');
    const accentDecay = p('accent_decay');
    const pre = ctx.bus('tap:voice2:prefilter');
    const post = ctx.bus('tap:voice2');
    const main = ctx.bus('main');
    const filter = new AcidFilter(ctx.sampleRate, ctx.maxBlock);
    /** The mix per sample of the span (it may move). */
    const mixes = new Float64Array(ctx.maxBlock);

    return {
      gate(_module: number, value: number): void {
        filter.decay = decay.value;
        filter.accentDecay = accentDecay.value;
        filter.gate(value, accent.value);
      },

      process(start: number, end: number): void {
        if (end <= start) return;
        const f = filter;
        // Only on a change: the envelope's setter takes a number, and a number passed to a call V8
        // did not inline (this function's inlining budget goes to the per-sample path) is boxed.
        const d = decay.value;
        const ad = accentDecay.value;
        if (d !== f.decay || ad !== f.accentDecay) {
          f.decay = d;
          f.accentDecay = ad;
          f.updateDecay();
        }
        const mixMoving = mix.moving;
        let m = mix.value;
        if (!mixMoving && m <= 0) {
          f.env.skip(end - start);
          return;
        }
        const pl = pre.l;
        const pr = pre.r;
        const ql = post.l;
        const qr = post.r;
        const ml = main.l;
        const mr = main.r;

        // Silent tap and a rung-out filter: the acid output is 0, voice2 (if anything) is faded out.
        if (f.isQuiet()) {
          let silent = true;
          for (let i = start; i < end; i++) {
            if (pl[i] !== 0 || pr[i] !== 0) {
              silent = false;
              break;
            }
          }
          if (silent) {
            f.env.skip(end - start);
            for (let i = start; i < end; i++) {
              if (mixMoving) m = mix.next();
              ml[i] -= m * ql[i];
              mr[i] -= m * qr[i];
            }
            return;
          }
        }

        f.cutoff = cutoff.value;
        f.res = res.value;
        f.envAmount = envAmount.value;
        f.drive = drive.value;
        f.volComp = volComp.value;
        f.cutoffOffset = cutoffOffset.value;
        f.resAccentBoost = resAccentBoost.value;
        const cm = cutoff.moving;
        const rm = res.moving;
        const em = envAmount.moving;
        const dm = drive.moving;
        const vm = volComp.moving;
        const om = cutoffOffset.moving;
        const bm = resAccentBoost.moving;
        const anyMoving = cm || rm || em || dm || vm || om || bm;
        // voice2 is mono (left = right) today: then one ladder does the work of two.
        let mono = true;
        for (let i = start; i < end; i++) {
          if (pl[i] !== pr[i]) {
            mono = false;
            break;
          }
        }
        f.begin(pl, pr);
        for (let i = start; i < end; i++) {
          if (anyMoving) {
            if (cm) f.cutoff = cutoff.next();
            if (rm) f.res = res.next();
            if (em) f.envAmount = envAmount.next();
            if (dm) f.drive = drive.next();
            if (vm) f.volComp = volComp.next();
            if (om) f.cutoffOffset = cutoffOffset.next();
            if (bm) f.resAccentBoost = resAccentBoost.next();
          }
          if (mixMoving) m = mix.next();
          mixes[i] = m;
          f.controlAt(i);
        }
        f.render(start, end, mono);
        const yl = f.outL;
        const yr = mono ? yl : f.outR;
        for (let i = start; i < end; i++) {
          ml[i] += mixes[i] * (yl[i] - ql[i]);
          mr[i] += mixes[i] * (yr[i] - qr[i]);
        }
      },

      getState(): PluginState {
        return { v: 1, filter: filter.getState() };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds (NaN, 1e15 in a ladder) changes nothing.
        const parsed = AcidStateSchema.safeParse(state);
        if (!parsed.success) return;
        filter.setState(parsed.data.filter as Partial<AcidState> | undefined);
      },
    };
  },
});

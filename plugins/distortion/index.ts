/**
 * The `distortion` plugin (module `dist1`): a main-bus insert. Binds the parameter table to
 * `DistortionDsp` (see dsp.ts for the signal chain).
 *
 * | hook        | thread / when                      | does                                                  |
 * | ----------- | ---------------------------------- | ----------------------------------------------------- |
 * | create      | audio thread, between blocks       | one DistortionDsp; keeps the kernel Param objects     |
 * | process     | inside a block, frames [start,end) | distorts `main` in place; nothing at mix 0 (bypass)   |
 * | getState    | between blocks                     | 'reload': `{ v: 1, dsp: DistortionState }` (filter    |
 * |             |                                    | states); 'save' (patterns): `{ v: 1 }`                |
 * | stateSchema | control / audio, between blocks    | state.ts: filter memories finite and bounded          |
 * | setState    | between blocks (after create)      | restores them; tolerates missing/mismatched fields;   |
 * |             |                                    | ignores a state that fails stateSchema                |
 *
 * While any parameter moves, the span is processed in chunks of RAMP_CHUNK samples: gains ramp
 * per sample inside each chunk (exactly the kernel's smoothing curve), filter coefficients step per
 * chunk. At rest the whole span is one chunk.
 */
import { definePlugin, RAMP_CHUNK, skipParam, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { DistortionDsp } from './dsp.ts';
import { DistortionStateSchema } from './state.ts';

const params = {
  drive: { min: 0, max: 1, default: 0, description: 'Drive: pre-gain 1x to 50x into the clipper (output level is compensated)' },
  mix: { min: 0, max: 1, default: 0, description: 'Dry/wet, equal power (0 = bypass)' },
  tone: { min: 0, max: 1, default: 0.5, description: 'Tone: low-pass 1 to 8 kHz and high-pass 500 to 100 Hz on the wet signal' },
} satisfies ParamTable;

export default definePlugin({
  params,
  stateSchema: DistortionStateSchema,
  /** Music Chronus slot files: its old `dist{n}` sections, field for field. */
  legacy: { modules: { pattern: 'dist{n}', fields: { module_id: { label: 'text' }, drive: 'drive', mix: 'mix', tone: 'tone' } } },
  create(ctx: PluginContext) {
    const dsp = new DistortionDsp(ctx.sampleRate, ctx.maxBlock);
    const drive = ctx.param(0, 'drive');
    const mix = ctx.param(0, 'mix');
    const tone = ctx.param(0, 'tone');
    const main = ctx.bus('main');
    dsp.setParams(drive.value, mix.value, tone.value);

    return {
      process(start: number, end: number): void {
        const l = main.l;
        const r = main.r;
        if (!drive.moving && !mix.moving && !tone.moving) {
          dsp.setParams(drive.value, mix.value, tone.value);
          dsp.process(l, r, start, end);
          return;
        }
        for (let s = start; s < end; s += RAMP_CHUNK) {
          const e = s + RAMP_CHUNK < end ? s + RAMP_CHUNK : end;
          const n = e - s;
          skipParam(drive, n);
          skipParam(mix, n);
          skipParam(tone, n);
          dsp.setParams(drive.value, mix.value, tone.value);
          dsp.process(l, r, s, e);
        }
      },

      getState(purpose?: StatePurpose): unknown {
        // A pattern keeps no audio in flight; a hot reload takes all of it.
        return purpose === 'reload' ? { v: 1, dsp: dsp.getState() } : { v: 1 };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds changes nothing.
        const parsed = DistortionStateSchema.safeParse(state);
        if (parsed.success) dsp.setState(parsed.data.dsp);
      },
    };
  },
});

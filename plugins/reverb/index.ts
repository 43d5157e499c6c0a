/**
 * The `reverb` plugin (module `reverb1`): a send effect. Reads its send bus (`send:reverb`: plugin.json
 * declares `"bus": "reverb"`, `ctx.ownBus` hands it over) and adds wet × mix into `master`. See
 * dsp.ts and plugin-sdk/dsp/freeverb.ts.
 *
 * | hook        | thread / when                      | does                                                   |
 * | ----------- | ---------------------------------- | ------------------------------------------------------ |
 * | create      | audio thread, between blocks       | one ReverbDsp: a wasm kernel, ≈ 1 MB of memory         |
 * | process     | inside a block, frames [start,end) | reverberates the send bus into master; idle when quiet |
 * | getState    | between blocks                     | 'reload': `{ v: 1, dsp: ReverbState }` — the whole     |
 * |             |                                    | tail (typed arrays), so a hot reload keeps the reverb  |
 * |             |                                    | ringing; 'save' (patterns): `{ v: 1 }`                 |
 * | stateSchema | control / audio, between blocks    | state.ts: the tail's samples finite and bounded        |
 * | setState    | between blocks (after create)      | restores it; tolerates missing/mismatched data;        |
 * |             |                                    | ignores a state that fails stateSchema                 |
 */
import { advanceParam, definePlugin, RAMP_CHUNK, type Bus, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { DAMP, MIX, ReverbDsp, ROOM } from './dsp.ts';
import { ReverbStateSchema } from './state.ts';

const params = {
  mix: { min: 0, max: 1, default: 0.3, description: 'Wet level added to master' },
  room: { min: 0, max: 1, default: 0.5, description: 'Room size: comb feedback 0.7 to 0.98 (longer tail)' },
  damp: { min: 0, max: 1, default: 0.5, description: 'High-frequency damping inside the tail' },
} satisfies ParamTable;

export default definePlugin({
  params,
  stateSchema: ReverbStateSchema,
  /** Music Chronus slot files: its old `reverb{n}` sections, field for field. */
  legacy: { modules: { pattern: 'reverb{n}', fields: { module_id: { label: 'text' }, mix: 'mix', room: 'room', damp: 'damp' } } },
  create(ctx: PluginContext) {
    const dsp = new ReverbDsp(ctx.sampleRate, ctx.maxBlock);
    const mix = ctx.param(0, 'mix');
    const room = ctx.param(0, 'room');
    const damp = ctx.param(0, 'damp');
    // Its own send bus: send:<bus> of plugin.json ("bus": "reverb"), never null for a send.
    const input = ctx.ownBus as Bus;
    const output = ctx.bus('master');
    dsp.setParams(mix.value, room.value, damp.value);
    const held = dsp.params;
    // Parameters at rest: `fill` writes the value unchanged, and unlike reading `.value` in this
    // per-block code (optimised late) it boxes no double.
    const hold = () => {
      mix.fill(held, MIX, MIX + 1);
      room.fill(held, ROOM, ROOM + 1);
      damp.fill(held, DAMP, DAMP + 1);
    };

    return {
      process(start: number, end: number): void {
        if (!mix.moving && !room.moving && !damp.moving) {
          hold();
          dsp.process(input.l, input.r, output.l, output.r, start, end);
          return;
        }
        for (let s = start; s < end; s += RAMP_CHUNK) {
          const e = s + RAMP_CHUNK < end ? s + RAMP_CHUNK : end;
          const n = e - s;
          dsp.setParams(advanceParam(mix, n), advanceParam(room, n), advanceParam(damp, n));
          dsp.process(input.l, input.r, output.l, output.r, s, e);
        }
      },

      getState(purpose?: StatePurpose): unknown {
        // A pattern keeps no audio in flight; a hot reload takes all of it.
        return purpose === 'reload' ? { v: 1, dsp: dsp.getState() } : { v: 1 };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds changes nothing.
        const parsed = ReverbStateSchema.safeParse(state);
        if (parsed.success) dsp.setState(parsed.data.dsp);
      },
    };
  },
});

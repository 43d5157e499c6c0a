/**
 * The `chorus` plugin (module `chorus1`): a send effect on its own bus. plugin.json declares
 * `"bus": "chorus"`, so while it is loaded the kernel makes `send:chorus` and every source that
 * takes sends (the voices) gets `send/chorus`; it reads that bus (`ctx.ownBus`) and adds its wet
 * output × mix into `master`. See dsp.ts.
 *
 * | hook        | thread / when                      | does                                                  |
 * | ----------- | ---------------------------------- | ----------------------------------------------------- |
 * | create      | audio thread, between blocks       | one ChorusDsp: two delay lines of 50 ms (4096 frames  |
 * |             |                                    | at 48 kHz), the control buffers                       |
 * | process     | inside a block, frames [start,end) | reads the smoothed parameters per sample (`fill`) and |
 * |             |                                    | choruses the send bus into master; idle when quiet    |
 * | getState    | between blocks                     | 'reload': `{ v: 1, dsp: ChorusState }` — the lines    |
 * |             |                                    | and the LFO phase, so a hot reload keeps the sound;   |
 * |             |                                    | 'save' (patterns): `{ v: 1 }`                         |
 * | stateSchema | control / audio, between blocks    | state.ts: lines finite and bounded, phase in [0, 1]   |
 * | setState    | between blocks (after create)      | restores it; tolerates missing fields; ignores a      |
 * |             |                                    | state that fails stateSchema                          |
 */
import { definePlugin, type Bus, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { ChorusDsp, MAX_DEPTH_MS, MAX_TIME_MS, type ChorusControls } from './dsp.ts';
import { ChorusStateSchema } from './state.ts';

const params = {
  rate: { min: 0.05, max: 5, default: 0.8, unit: 'Hz', description: 'LFO rate: how fast the voices sweep' },
  depth: { min: 0, max: MAX_DEPTH_MS, default: 3, unit: 'ms', description: 'Sweep: each voice delay moves this far either side of time (at most time - 1 ms)' },
  time: { min: 5, max: MAX_TIME_MS, default: 15, unit: 'ms', description: 'Centre delay of the voices' },
  feedback: { min: 0, max: 0.8, default: 0, description: 'Wet signal fed back into the lines (towards a flanger)' },
  width: { min: 0, max: 1, default: 1, description: 'Stereo width: 0 both sides sweep alike, 1 each right voice sweeps opposite its left twin' },
  mix: { min: 0, max: 1, default: 0.5, description: 'Wet level added to master' },
} satisfies ParamTable;

export default definePlugin({
  params,
  stateSchema: ChorusStateSchema,
  create(ctx: PluginContext) {
    const dsp = new ChorusDsp(ctx.sampleRate);
    const p = (name: keyof typeof params) => ctx.param(0, name);
    const rate = p('rate');
    const depth = p('depth');
    const time = p('time');
    const feedback = p('feedback');
    const width = p('width');
    const mix = p('mix');
    const buffer = () => new Float32Array(ctx.maxBlock);
    const controls: ChorusControls = { time: buffer(), depth: buffer(), rate: buffer(), feedback: buffer(), width: buffer(), mix: buffer() };
    // Its own send bus: send:<bus> of plugin.json ("bus": "chorus"), never null for a send.
    const input = ctx.ownBus as Bus;
    const output = ctx.bus('master');

    return {
      process(start: number, end: number): void {
        // A sleeping chorus with nothing on its bus does nothing (the kernel lands the parameters).
        if (dsp.sleeping && !dsp.hears(input.l, input.r, start, end)) return;
        rate.fill(controls.rate, start, end);
        depth.fill(controls.depth, start, end);
        time.fill(controls.time, start, end);
        feedback.fill(controls.feedback, start, end);
        width.fill(controls.width, start, end);
        mix.fill(controls.mix, start, end);
        dsp.process(input.l, input.r, output.l, output.r, start, end, controls);
      },

      getState(purpose?: StatePurpose): unknown {
        // A pattern keeps no audio in flight; a hot reload takes all of it.
        return purpose === 'reload' ? { v: 1, dsp: dsp.getState() } : { v: 1 };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds (NaN or 1e15 in a line) changes nothing.
        const parsed = ChorusStateSchema.safeParse(state);
        if (parsed.success) dsp.setState(parsed.data.dsp);
      },
    };
  },
});

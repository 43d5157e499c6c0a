/**
 * The `limiter` plugin (module `limiter1`): the last master effect (order 100). See dsp.ts.
 *
 * | hook        | thread / when                      | does                                                  |
 * | ----------- | ---------------------------------- | ----------------------------------------------------- |
 * | create      | audio thread, between blocks       | one LimiterDsp (1.5 ms look-ahead = output latency)   |
 * | process     | inside a block, frames [start,end) | limits `master` in place to the ceiling               |
 * | getState    | between blocks                     | 'reload': `{ v: 1, dsp: LimiterState }` (look-ahead   |
 * |             |                                    | audio, gain computer): a hot reload neither drops nor |
 * |             |                                    | repeats a sample; 'save' (patterns): `{ v: 1 }`       |
 * | stateSchema | control / audio, between blocks    | state.ts: look-ahead audio and gains finite, bounded  |
 * | setState    | between blocks (after create)      | restores it; a mismatched state, or one that fails    |
 * |             |                                    | stateSchema, is ignored                               |
 *
 * Ceiling and release are read once per span (their kernel smoothing is in force across spans); the
 * brick-wall guarantee holds whatever they do, because the final clamp uses the same ceiling.
 */
import { definePlugin, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { LimiterDsp } from './dsp.ts';
import { LimiterStateSchema } from './state.ts';

const params = {
  ceiling: { min: -12, max: 0, default: -1, unit: 'dB', description: 'Ceiling: no output sample exceeds it (dBFS)' },
  release: { min: 10, max: 1000, default: 100, unit: 'ms', description: 'Release time constant of the gain recovery' },
} satisfies ParamTable;

export default definePlugin({
  params,
  stateSchema: LimiterStateSchema,
  create(ctx: PluginContext) {
    const dsp = new LimiterDsp(ctx.sampleRate);
    const ceiling = ctx.param(0, 'ceiling');
    const release = ctx.param(0, 'release');
    const master = ctx.bus('master');
    dsp.setParams(ceiling.value, release.value);

    return {
      process(start: number, end: number): void {
        dsp.setParams(ceiling.value, release.value);
        dsp.process(master.l, master.r, start, end);
      },

      getState(purpose?: StatePurpose): unknown {
        // A pattern keeps no audio in flight; a hot reload takes all of it.
        return purpose === 'reload' ? { v: 1, dsp: dsp.getState() } : { v: 1 };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds changes nothing.
        const parsed = LimiterStateSchema.safeParse(state);
        if (parsed.success) dsp.setState(parsed.data.dsp);
      },
    };
  },
});

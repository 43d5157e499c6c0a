/**
 * The `delay` plugin (module `delay1`): a send effect. Reads its send bus (`send:delay`: plugin.json
 * declares `"bus": "delay"`, `ctx.ownBus` hands it over) and adds echoes × mix into `master`.
 * See dsp.ts.
 *
 * | hook        | thread / when                      | does                                                  |
 * | ----------- | ---------------------------------- | ----------------------------------------------------- |
 * | create      | audio thread, between blocks       | one DelayDsp: a wasm kernel, one 32768-frame stereo   |
 * |             |                                    | ring at 48 kHz (≈ 0.4 MB of memory)                   |
 * | process     | inside a block, frames [start,end) | delays the send bus into master; idle when quiet      |
 * | getState    | between blocks                     | 'reload': `{ v: 1, dsp: DelayState }` — lines (typed  |
 * |             |                                    | arrays), filter states, the current delay: echoes     |
 * |             |                                    | survive a hot reload; 'save' (patterns): `{ v: 1 }`   |
 * | stateSchema | control / audio, between blocks    | state.ts: lines and filter memories finite, bounded   |
 * | setState    | between blocks (after create)      | restores it; tolerates missing/mismatched data;       |
 * |             |                                    | ignores a state that fails stateSchema                |
 *
 * While a parameter moves the span is processed in chunks of RAMP_CHUNK samples; time, feedback and
 * mix ramp per sample inside each chunk (the kernel's smoothing curve, read with `p.next()`), filter
 * coefficients step per chunk.
 */
import { advanceParam, definePlugin, RAMP_CHUNK, type Bus, type ParamTable, type PluginContext, type StatePurpose } from 'plugin-sdk';
import { DelayDsp, FEEDBACK, HIGHCUT, LOWCUT, MAX_TIME_S, MIX, TIME } from './dsp.ts';
import { DelayStateSchema } from './state.ts';

const params = {
  time: { min: 0.1, max: MAX_TIME_S, default: 0.25, unit: 'seconds', description: 'Delay time (changes glide like tape, 0.5x to 1.5x speed)' },
  feedback: { min: 0, max: 0.7, default: 0.4, description: 'Echo feedback' },
  mix: { min: 0, max: 1, default: 0.3, description: 'Echo level added to master' },
  lowcut: { min: 20, max: 1000, default: 100, unit: 'Hz', description: 'High-pass in the feedback path: each repeat loses more lows (2-pole)' },
  highcut: { min: 1000, max: 10000, default: 5000, unit: 'Hz', description: 'Low-pass in the feedback path: each repeat gets darker (2-pole)' },
} satisfies ParamTable;

export default definePlugin({
  params,
  stateSchema: DelayStateSchema,
  /** Music Chronus slot files: its old `delay{n}` sections, field for field. */
  legacy: { modules: { pattern: 'delay{n}', fields: { module_id: { label: 'text' }, time: 'time', feedback: 'feedback', mix: 'mix', lowcut: 'lowcut', highcut: 'highcut' } } },
  create(ctx: PluginContext) {
    const dsp = new DelayDsp(ctx.sampleRate, MAX_TIME_S, ctx.maxBlock);
    const time = ctx.param(0, 'time');
    const feedback = ctx.param(0, 'feedback');
    const mix = ctx.param(0, 'mix');
    const lowcut = ctx.param(0, 'lowcut');
    const highcut = ctx.param(0, 'highcut');
    // Its own send bus: send:<bus> of plugin.json ("bus": "delay"), never null for a send.
    const input = ctx.ownBus as Bus;
    const output = ctx.bus('master');
    dsp.setParams(time.value, feedback.value, mix.value, lowcut.value, highcut.value);
    const held = dsp.params;
    // Parameters at rest: `fill` writes the value unchanged, and unlike reading `.value` in this
    // per-block code (optimised late) it boxes no double.
    const hold = () => {
      time.fill(held, TIME, TIME + 1);
      feedback.fill(held, FEEDBACK, FEEDBACK + 1);
      mix.fill(held, MIX, MIX + 1);
      lowcut.fill(held, LOWCUT, LOWCUT + 1);
      highcut.fill(held, HIGHCUT, HIGHCUT + 1);
    };

    return {
      process(start: number, end: number): void {
        if (!time.moving && !feedback.moving && !mix.moving && !lowcut.moving && !highcut.moving) {
          hold();
          dsp.process(input.l, input.r, output.l, output.r, start, end);
          return;
        }
        for (let s = start; s < end; s += RAMP_CHUNK) {
          const e = s + RAMP_CHUNK < end ? s + RAMP_CHUNK : end;
          const n = e - s;
          dsp.setParams(advanceParam(time, n), advanceParam(feedback, n), advanceParam(mix, n), advanceParam(lowcut, n), advanceParam(highcut, n));
          dsp.process(input.l, input.r, output.l, output.r, s, e);
        }
      },

      getState(purpose?: StatePurpose): unknown {
        // A pattern keeps no audio in flight; a hot reload takes all of it.
        return purpose === 'reload' ? { v: 1, dsp: dsp.getState() } : { v: 1 };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds (NaN or 1e15 in a line) changes nothing.
        const parsed = DelayStateSchema.safeParse(state);
        if (parsed.success) dsp.setState(parsed.data.dsp);
      },
    };
  },
});

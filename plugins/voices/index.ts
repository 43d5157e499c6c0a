/**
 * The `voices` plugin: binds the parameter table (params.ts) of each voice module (voice1..voiceN) to
 * `VoiceDsp` (dsp.ts) and, for saw voices, to the SIMD `VoiceBank` (bank.ts) that renders them four at
 * a time.
 *
 * | hook        | thread / when                      | does                                                     |
 * | ----------- | ---------------------------------- | -------------------------------------------------------- |
 * | create      | audio thread, between blocks       | one VoiceDsp per module, the VoiceBank (wasm, ~1 ms),    |
 * |             |                                    | keeps the kernel Param objects                           |
 * | gate        | inside a block, at the event       | opens (attack) or releases voice `module`                |
 * | beginBlock  | block start                        | every 32 blocks, looks again for tap buses not found yet |
 * | process     | inside a block, frames [start,end) | reads every non-idle voice's parameters and envelope     |
 * |             |                                    | into typed arrays (`gather`), then renders each; ADDS    |
 * |             |                                    | it to `main` (l = r), voice × `send/<bus>` to each send  |
 * |             |                                    | bus (`ctx.sends`: every bus a send plugin declares)      |
 * |             |                                    | and, where those buses exist, to `tap:<id>` (stems,      |
 * |             |                                    | acid1) and its pre-filter signal to `tap:<id>:prefilter` |
 * | getState    | between blocks                     | `{ v: 1, voices: [VoiceState…] }`                        |
 * | stateSchema | control / audio, between blocks    | state.ts: bounded pitches, levels and filter memories    |
 * | setState    | between blocks (after create)      | restores held notes; tolerates missing fields; ignores   |
 * |             |                                    | a state that fails stateSchema                           |
 *
 * The files, one job each:
 *   params.ts        the parameter table and the per-voice row layout derived from it
 *   voice-params.ts  every voice's Param objects, span values and moving flags (flat, by the table)
 *   voice-slot.ts    one voice module: its VoiceDsp and tap buses
 *   voice-set.ts     all voices and their span state (idle, envelope, block controls, taps)
 *   voice-render.ts  a voice rendered by its VoiceDsp
 *   scheduler.ts     which voices the bank renders, and rendering them (bank-cutoff.ts: their cutoffs)
 *   bank.ts          the VoiceBank: saw voices four at a time in wasm SIMD (bank-kernel.ts: its
 *                    code, as named steps; bank-layout.ts: its memory)
 *   mix.ts           adding a mono voice into stereo buses
 *   dsp.ts, state.ts the pure voice DSP; the state schema
 *
 * Taps (voice-slot.ts) are looked up in create, then every 32 blocks for the ones still missing, so a
 * plugin loaded later is picked up within ~0.2 s. A voice whose taps were not opened costs one
 * undefined check each. `plugins.voices.bank: false` in the config renders every voice with VoiceDsp.
 */
import { definePlugin, type PluginContext } from 'plugin-sdk';
import { VoiceBank } from './bank.ts';
import type { VoiceState } from './dsp.ts';
import { NP, P, params } from './params.ts';
import { BankScheduler } from './scheduler.ts';
import { VoicesStateSchema } from './state.ts';
import { MUSIC_CHRONUS_VOICES } from './legacy.ts';
import { VoiceRenderer } from './voice-render.ts';
import { VoiceSet } from './voice-set.ts';

const TYPE = P['osc/type'];

/** Blocks between two looks for tap buses that did not exist yet. */
const TAP_RECHECK_BLOCKS = 32;

/** The voice bank, unless the config turns it off or it cannot be built (then every voice renders in JS, and the log says so). */
function openBank(ctx: PluginContext, count: number): VoiceBank | null {
  if (ctx.config.bank === false) return null;
  try {
    return new VoiceBank(ctx.sampleRate, ctx.maxBlock, count, ctx.sends.length);
  } catch (e) {
    ctx.log.warn(`voice bank unavailable (${(e as Error).message}); every voice renders in JS`);
    return null;
  }
}

export default definePlugin({
  params,
  gates: true,
  // Every voice gets send/<bus> for each send bus a loaded plugin declares (ctx.sends).
  sends: true,
  stateSchema: VoicesStateSchema,
  legacy: MUSIC_CHRONUS_VOICES,
  create(ctx: PluginContext) {
    const voices = new VoiceSet(ctx);
    const { count, slots, idle } = voices;
    const val = voices.params.val;
    const main = ctx.bus('main');
    const sends = ctx.sends;
    // One peak meter per voice, read (and reset) by the control thread for /viz/levels.
    const meters = ctx.meters(count);
    for (let v = 0; v < count; v++) voices.lookForTaps(v);
    let blocksToRecheck = TAP_RECHECK_BLOCKS;
    const bank = openBank(ctx, count);
    const scheduler = bank === null ? null : new BankScheduler(bank, voices, main, sends, meters);
    const renderer = new VoiceRenderer(voices, main, sends, meters, ctx.maxBlock);
    for (let v = 0; v < count; v++) voices.prime(v);

    return {
      beginBlock(): void {
        if (--blocksToRecheck > 0) return;
        blocksToRecheck = TAP_RECHECK_BLOCKS;
        voices.recheckTaps();
      },

      process(start: number, end: number): void {
        if (end <= start) return;
        if (scheduler !== null) scheduler.beginSpan(end - start);
        voices.gather();
        for (let v = 0; v < count; v++) {
          if (idle[v] !== 0) {
            if (scheduler !== null) scheduler.drop(v);
            continue;
          }
          voices.syncBlockParams(v);
          if (scheduler === null) slots[v].dsp.setWaveform(val[v * NP + TYPE]);
          else if (scheduler.take(v)) continue;
          renderer.render(v, start, end);
        }
        if (scheduler !== null) scheduler.endSpan(start, end);
      },

      gate(module: number, value: number): void {
        const s = slots[module];
        if (s === undefined) return;
        if (value > 0) voices.prime(module);
        s.dsp.gate(value);
      },

      getState(): unknown {
        // Between blocks: the bank hands its voices back (at the next block's first frame) so each
        // VoiceDsp holds the whole state; they return to the bank at the next span.
        scheduler?.releaseAll();
        return { v: 1, voices: slots.map((s) => s.dsp.getState()) };
      },

      setState(state: unknown): void {
        // Never trusted: a state out of bounds (NaN, 1e15 in a filter) changes nothing.
        const parsed = VoicesStateSchema.safeParse(state);
        if (!parsed.success) return;
        const states = parsed.data.voices;
        if (states === undefined) return;
        scheduler?.releaseAll();
        const n = Math.min(states.length, count);
        for (let v = 0; v < n; v++) {
          voices.prime(v);
          slots[v].dsp.setWaveform(val[v * NP + TYPE]);
          slots[v].dsp.setState(states[v] as Partial<VoiceState> | null);
        }
      },
    };
  },
});

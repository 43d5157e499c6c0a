/**
 * One voice module: its `VoiceDsp` and its tap buses, if some plugin opened them.
 *
 * Taps (agreed with the recorder and acid plugins): a voice never creates them; it looks them up with
 * `ctx.findBus` and ADDS into them: `tap:voiceN` gets exactly what voiceN added to `main` (recorder
 * stems; acid1 subtracts it), `tap:voiceN:prefilter` gets oscillator × envelope × amp before the
 * voice's own lowpass (what acid1 filters instead).
 *
 * Thread: `makeSlot` allocates (create); `findTaps` does not (the names were built in create).
 */
import type { Bus, PluginContext } from 'plugin-sdk';
import { VoiceDsp } from './dsp.ts';

export interface VoiceSlot {
  readonly dsp: VoiceDsp;
  readonly tapName: `tap:${string}`;
  readonly preName: `tap:${string}`;
  tap: Bus | undefined;
  pre: Bus | undefined;
}

/** Module `index`'s slot, its oscillator at the pitch `freq` (Hz) and waveform `type`. */
export function makeSlot(ctx: PluginContext, index: number, freq: number, type: number): VoiceSlot {
  const id = ctx.modules[index];
  const slot: VoiceSlot = {
    dsp: new VoiceDsp(ctx.sampleRate, ctx.maxBlock, index + 1),
    tapName: `tap:${id}`,
    preName: `tap:${id}:prefilter`,
    tap: undefined,
    pre: undefined,
  };
  slot.dsp.jumpTo(freq);
  slot.dsp.setWaveform(type);
  return slot;
}

/** Looks up the tap buses not found yet; whether the voice has none. */
export function findTaps(ctx: PluginContext, s: VoiceSlot): boolean {
  if (s.tap === undefined) s.tap = ctx.findBus(s.tapName);
  if (s.pre === undefined) s.pre = ctx.findBus(s.preName);
  return s.tap === undefined && s.pre === undefined;
}

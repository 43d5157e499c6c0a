/**
 * The `recorder` plugin's audio half (role `sink`, module `rec1`). It runs after the master effects
 * (the limiter), so the `master` tap is exactly what is heard. Each block it copies the chosen buses
 * into one lock-free tap ring named `recorder`; the control half (control.ts) drains that ring to WAV
 * files. Nothing here touches a file.
 *
 * | hook       | thread / when                 | does                                                       |
 * | ---------- | ----------------------------- | ---------------------------------------------------------- |
 * | create     | audio thread, between blocks  | opens the tap ring (and the per-voice stem buses), scratch  |
 * | command    | between blocks                | `/engine/record/start [session]` arms, `/engine/record/stop` and `/engine/stop` stop |
 * | beginBlock | block start                   | an armed session starts at this block's first frame         |
 * | process    | inside a block, [start, end)  | copies [start, end) of the tap's buses into the ring        |
 *
 * Config (`plugins.recorder`, arriving as `ctx.config`; read by `audioSettings` in protocol.ts):
 * - `tap`: `master` (default; 2 channels, clipped exactly like the output), `pre-fx` (the `main` bus
 *   after the main effects: voices after distortion, before reverb and delay), or `stems` (master then
 *   voice 1…N, 2 channels each, N up to 128; opens buses `tap:voice1`…`tap:voiceN`, which the voices
 *   plugin fills only when they exist).
 * - `voices`: stem count (default `ctx.numVoices`, the engine's voice count).
 * - `fadeMs`: linear fade-in at start and fade-out after stop (default 0: sample-exact copy).
 * - `bufferSeconds`: ring length (default 2 s, rounded up to a power of two in frames; halved until
 *   the ring takes at most 128 MiB, which matters only for stems of more than 63 voices).
 * - `format`, `rf64ThresholdBytes`, `syncIntervalMs`, `drainIntervalMs`: the control half's.
 *
 * These are taken in `create` only: when they change, the control half makes this half again
 * (`ctx.audio.reload()`) before its next recording.
 */
import { definePlugin, type PluginContext, type PluginInstance } from 'plugin-sdk';
import { RecorderCore } from './core.ts';
import { audioSettings, CMD_ENGINE_STOP, CMD_START, CMD_STOP, TAP_NAME, TapKind, stemBusName, type CommandReply, type TapChoice } from './protocol.ts';

/** The ring's channel sources for a tap: [L, R] of master or main, or master then each voice bus. */
function sourcesFor(ctx: PluginContext, tap: TapChoice, voices: number): Float32Array[] {
  if (tap === 'pre-fx') {
    const main = ctx.bus('main');
    return [main.l, main.r];
  }
  const master = ctx.bus('master');
  const out = [master.l, master.r];
  if (tap === 'stems') {
    for (let v = 1; v <= voices; v++) {
      const b = ctx.bus(stemBusName(v));
      out.push(b.l, b.r);
    }
  }
  return out;
}

export default definePlugin({
  params: {},
  create(ctx: PluginContext): PluginInstance {
    const s = audioSettings(ctx.config, ctx.numVoices, ctx.sampleRate, ctx.maxBlock);
    const sources = sourcesFor(ctx, s.tap, s.voices);
    const ring = ctx.tap(TAP_NAME, sources.length, s.capacity);
    const core = new RecorderCore(ring, sources, s.tap === 'pre-fx' ? 0 : 2, s.fadeFrames, ctx.maxBlock, TapKind[s.tap]);

    return {
      beginBlock(blockStart: number): void {
        core.beginBlock(blockStart);
      },
      process(start: number, end: number): void {
        core.process(start, end);
      },
      command(name: string, args: unknown): CommandReply | undefined {
        if (name === CMD_START) {
          const session = Array.isArray(args) && typeof args[0] === 'number' ? args[0] : 1;
          return { ok: core.start(session), state: core.currentState };
        }
        if (name === CMD_STOP || name === CMD_ENGINE_STOP) {
          core.stop();
          return { ok: true, state: core.currentState };
        }
        return undefined;
      },
    };
  },
});

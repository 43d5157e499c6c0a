/**
 * The `recorder` plugin (role `sink`, module `rec1`): the audio side of recording. It runs after the
 * master effects (the limiter), so the `master` tap is exactly what is heard. Each block it copies the
 * chosen buses into one lock-free tap ring named `recorder`; the kernel's control-side writer
 * (kernel/recording/) drains that ring to WAV files. Nothing here touches a file.
 *
 * | hook       | thread / when                 | does                                                       |
 * | ---------- | ----------------------------- | ---------------------------------------------------------- |
 * | create     | audio thread, between blocks  | opens the tap ring (and the per-voice stem buses), scratch  |
 * | command    | between blocks                | `/engine/record/start [session]` arms, `/engine/record/stop` and `/engine/stop` stop |
 * | beginBlock | block start                   | an armed session starts at this block's first frame         |
 * | process    | inside a block, [start, end)  | copies [start, end) of the tap's buses into the ring        |
 *
 * Config (`plugins.recorder` in config/*.json, arriving as `ctx.config`):
 * - `tap`: `master` (default; 2 channels, clipped exactly like the output), `pre-fx` (the `main` bus
 *   after the main effects: voices after distortion, before reverb and delay), or `stems` (master then
 *   voice 1…N, 2 channels each, N up to 128; opens buses `tap:voice1`…`tap:voiceN`, which the voices
 *   plugin fills only when they exist).
 * - `voices`: stem count (the kernel fills in engine.numVoices).
 * - `fadeMs`: linear fade-in at start and fade-out after stop (default 0: sample-exact copy).
 * - `bufferSeconds`: ring length (default 2 s, rounded up to a power of two in frames; halved until
 *   the ring takes at most 128 MiB, which matters only for stems of more than 63 voices).
 * - `format`, `rf64ThresholdBytes`: used by the control side only.
 */
import { definePlugin, type PluginContext, type PluginInstance } from 'plugin-sdk';
import { RecorderCore } from './core.ts';
import { recorderProtocol } from 'plugin-sdk';

type TapChoice = recorderProtocol.TapChoice;
const { CMD_ENGINE_STOP, CMD_START, CMD_STOP, MAX_RING_BYTES, MAX_STEM_VOICES, TAP_NAME, TapKind, stemBusName } = recorderProtocol;

const DEFAULT_BUFFER_SECONDS = 2;

function numberOr(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

function tapChoice(value: unknown): TapChoice {
  return value === 'pre-fx' || value === 'stems' ? value : 'master';
}

/** The smallest power of two ≥ n. */
function pow2AtLeast(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

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
    const cfg = ctx.config;
    const tap = tapChoice(cfg.tap);
    const voices = Math.round(numberOr(cfg.voices, 8, 1, MAX_STEM_VOICES));
    const fadeFrames = Math.round((numberOr(cfg.fadeMs, 0, 0, 1000) * ctx.sampleRate) / 1000);
    const seconds = numberOr(cfg.bufferSeconds, DEFAULT_BUFFER_SECONDS, 0.01, 60);
    const sources = sourcesFor(ctx, tap, voices);
    let capacity = pow2AtLeast(Math.max(4 * ctx.maxBlock, Math.ceil(seconds * ctx.sampleRate)));
    // Many stems: the ring holds less time rather than taking more than MAX_RING_BYTES.
    while (capacity * sources.length * 4 > MAX_RING_BYTES && capacity / 2 >= 4 * ctx.maxBlock) capacity /= 2;
    const ring = ctx.tap(TAP_NAME, sources.length, capacity);
    const core = new RecorderCore(ring, sources, tap === 'pre-fx' ? 0 : 2, fadeFrames, ctx.maxBlock, TapKind[tap]);

    return {
      beginBlock(blockStart: number): void {
        core.beginBlock(blockStart);
      },
      process(start: number, end: number): void {
        core.process(start, end);
      },
      command(name: string, args: unknown): unknown {
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

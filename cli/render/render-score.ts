/**
 * Offline rendering: a score's messages go through the same router as live OSC, each at its exact
 * frame, and the engine renders as fast as it can into a streamed WAV file.
 */
import type { InProcessHost } from '../../kernel/host/audio-host.ts';
import type { EngineServices } from '../../kernel/engine/engine-services.ts';
import type { Remote } from '../../kernel/osc/osc-router.ts';
import { plainArgs } from '../../kernel/osc/osc-args.ts';
import type { Score } from './score.ts';
import type { WavSampleFormat } from '../../plugin-sdk/wav/index.ts';
import { openRenderOutput } from './wav-file.ts';

export interface RenderOptions {
  out: string;
  seconds?: number;
  format?: WavSampleFormat;
  /** Replies and errors from the score's messages go here (address and args). */
  onReply?: (address: string, args: readonly unknown[]) => void;
  onProgress?: (framesDone: number, framesTotal: number) => void;
}

/**
 * Blocks rendered between waits for the file: the loop awaits the writes queued up to this many blocks
 * ago, not the one it just queued, so the next blocks render while a ~1 MiB chunk goes to disk
 * (awaiting every block's append left the loop idle while each write ran: ≈ 40 ms of a 60 s render
 * at N = 8). At most about two chunks are in flight.
 */
const WRITE_LAG_BLOCKS = 256;
const ignore = (): void => undefined;

/** The score's sender: replies to it come back through the engine's replier as `onReply`. */
export const SCORE_REMOTE: Remote = { address: 'score', port: 0 };

/** Drive an offline engine through a score; returns the frames written. */
export async function renderScore(engine: Pick<EngineServices, 'audio' | 'dispatch' | 'settle' | 'onReply'>, score: Score, options: RenderOptions): Promise<number> {
  const host = engine.audio as InProcessHost;
  const sr = host.sampleRate;
  const lastEvent = score.events.length > 0 ? score.events[score.events.length - 1].time : 0;
  const seconds = options.seconds ?? score.seconds ?? lastEvent + 2;
  const total = Math.round(seconds * sr);
  if (options.onReply) {
    const onReply = options.onReply;
    engine.onReply = (remote, address, args) => {
      if (remote === SCORE_REMOTE) onReply(address, plainArgs(args));
    };
  }
  const output = await openRenderOutput(options.out, { sampleRate: sr, channels: 2, format: options.format ?? 'int24' });
  const writer = output.writer;
  try {
    let next = 0;
    let done = 0;
    let blocks = 0;
    /** Settles when the writes queued WRITE_LAG_BLOCKS blocks ago are on their way to disk. */
    let earlier: Promise<void> | null = null;
    const channels: Float32Array[] = [];
    while (done < total) {
      const frames = Math.min(host.blockSize, total - done);
      const first = next;
      while (next < score.events.length && Math.round(score.events[next].time * sr) < done + frames) {
        const e = score.events[next++];
        engine.dispatch({ address: e.address, args: e.args, frame: Math.round(e.time * sr), remote: SCORE_REMOTE });
      }
      // Handlers that went asynchronous finish before the block that their events fall in.
      if (next > first) await engine.settle();
      const out = host.render(frames);
      channels[0] = out.l;
      channels[1] = out.r;
      // Every append's promise is handled (a write error is kept by the writer and reported by the
      // next awaited one, or by finish()).
      const appended = writer.append(channels, frames);
      appended.catch(ignore);
      if (++blocks % WRITE_LAG_BLOCKS === 0) {
        if (earlier) await earlier;
        earlier = appended;
      }
      done += frames;
      options.onProgress?.(done, total);
    }
  } catch (e) {
    await output.discard();
    throw e;
  }
  await output.finish();
  return total;
}

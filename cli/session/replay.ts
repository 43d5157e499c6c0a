/**
 * Replaying a session offline (`chronus render --session`): the same AudioEngine as live, driven by
 * the journal alone. Before each block it runs the calls journaled at that block's first frame (in
 * their order) and puts the control-ring records that the live audio thread took in that block into
 * the ring, exactly as they were taken; the plugins' own events (sequencer, LFOs) come from the
 * plugins as they did live. So every block sees what the live block saw, sample for sample.
 *
 * `--from` starts from the journal's last snapshot at or before `from` (the audio graph as it was
 * at that block boundary: every plugin version with its full state, the parameters, the queue), with
 * the calls journaled after it and the records of the blocks from there on, and renders without
 * writing until `from`; without a snapshot before it, from the session's start.
 */
import { InProcessHost, type AudioCall, type AudioCalls } from '../../kernel/host/audio-host.ts';
import { openRenderOutput } from '../render/wav-file.ts';
import type { WavSampleFormat } from '../../plugin-sdk/wav/index.ts';
import { decodeValue } from './codec.ts';
import type { Journal } from './read.ts';
import { blobSource, SessionError } from './store.ts';
import { readSnapshot } from './snapshot.ts';
import type { AudioSnapshot } from '../../kernel/audio/audio-snapshot.ts';

export interface ReplayOptions {
  out: string;
  format?: WavSampleFormat;
  /** First frame written (default 0). */
  from?: number;
  /** Frame after the last one written (default and at most: the journal's end). */
  to?: number;
  onProgress?: (done: number, total: number) => void;
  /** Start from the session's beginning even where a snapshot would do (to compare the two). */
  ignoreSnapshots?: boolean;
}

export interface ReplayResult {
  /** Frames written. */
  frames: number;
  from: number;
  to: number;
  /** The first frame rendered: a snapshot's frame, or 0. */
  startFrame: number;
  /** Journaled calls that threw again in the replay (as they did live, or the replay differs). */
  callErrors: string[];
}

export async function replaySession(journal: Journal, options: ReplayOptions): Promise<ReplayResult> {
  const { head } = journal;
  const from = options.from ?? 0;
  const to = Math.min(options.to ?? journal.endFrame, journal.endFrame);
  if (!(from < to)) throw new SessionError(`nothing to render: from frame ${from} is not before ${to} (the journal ends at frame ${journal.endFrame})`);
  const host = new InProcessHost({ sampleRate: head.sampleRate, blockSize: head.blockSize, smoothingMs: head.smoothingMs, equalPowerFades: head.equalPowerFades });
  const blobs = blobSource(journal.dir);
  const snap = options.ignoreSnapshots ? undefined : journal.snapshots.filter((s) => s.f <= from).at(-1);
  if (snap !== undefined) restoreFrom(host, readSnapshot(snap, blobs));
  const startFrame = host.engine.frame;
  const calls = journal.calls.slice(snap?.calls ?? 0).sort((a, b) => a.f - b.f);
  const events = journal.events.filter((e) => e.b >= startFrame).sort((a, b) => a.b - b.b);
  const n = head.blockSize;
  const callErrors: string[] = [];
  const output = await openRenderOutput(options.out, { sampleRate: head.sampleRate, channels: 2, format: options.format ?? 'int24' });
  const writer = output.writer;
  const channels: Float32Array[] = [];
  let ci = 0;
  let ei = 0;
  try {
    while (host.engine.frame < to) {
      const frame = host.engine.frame;
      for (; ci < calls.length && calls[ci].f <= frame; ci++) {
        const call = calls[ci];
        const args = decodeValue(call.a, blobs) as Parameters<AudioCalls[AudioCall]>;
        try {
          await (host.call as (m: AudioCall, ...a: unknown[]) => Promise<unknown>)(call.m, ...args);
        } catch (e) {
          if (call.x !== 1) callErrors.push(`frame ${call.f}: ${call.m}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      for (; ei < events.length && events[ei].b <= frame; ei++) {
        const r = events[ei].r;
        for (let i = 0; i < r.length; i += 4) host.ring.push(r[i], r[i + 1], r[i + 2], r[i + 3]);
      }
      const out = host.render(n);
      const a = Math.max(from, frame) - frame;
      const b = Math.min(to, frame + n) - frame;
      if (b > a) {
        channels[0] = out.l.subarray(a, b);
        channels[1] = out.r.subarray(a, b);
        await writer.append(channels, b - a);
      }
      options.onProgress?.(frame + n, to);
    }
    await output.finish();
  } catch (e) {
    await output.discard();
    throw e;
  } finally {
    await host.close();
  }
  return { frames: to - from, from, to, startFrame, callErrors };
}

/** The snapshot into the fresh offline engine; a plugin that will not take it back is said with the snapshot's frame. */
function restoreFrom(host: InProcessHost, snapshot: AudioSnapshot): void {
  try {
    host.engine.restore(snapshot);
  } catch (e) {
    throw new SessionError(`the snapshot at frame ${snapshot.frame} could not be restored: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * The golden score: a fixed two seconds through the whole signal path (sequencer → voices → acid1 →
 * dist1 → reverb1 and delay1 → limiter1, with an LFO moving a filter), rendered offline. The
 * committed `full-path.wav` is its reference; `npm run golden` re-renders it after an intended
 * change of sound.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OfflineEngine } from '../helpers/offline-engine.ts';

export const GOLDEN_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'full-path.wav');
export const GOLDEN_SECONDS = 2;

export async function renderGolden(): Promise<{ l: Float32Array; r: Float32Array }> {
  const e = await OfflineEngine.start({ configure: (c) => (c.engine.stageSeconds = 0) });
  try {
    const send = (address: string, ...args: unknown[]) => e.send(address, args, 0);
    await send('/mod/voice1/osc/type', 2);
    await send('/mod/voice1/adsr/decay', 0.08);
    await send('/mod/voice1/adsr/sustain', 0.2);
    await send('/mod/voice2/osc/type', 1);
    await send('/mod/acid1/res', 0.8);
    await send('/mod/acid1/cutoff', 400);
    await send('/mod/acid1/vol_comp', 0);
    await send('/mod/voice3/osc/type', 4);
    await send('/mod/voice3/adsr/release', 0.05);
    await send('/mod/voice3/filter/freq', 6000);
    await send('/mod/voice4/osc/type', 0);
    await send('/mod/voice4/freq', 660);
    await send('/mod/voice4/amp', 0.12);
    await send('/mod/voice4/send/reverb', 0.6);
    await send('/mod/voice4/send/delay', 0.5);
    await send('/mod/voice4/slide_time', 0.2);
    await send('/mod/dist1/drive', 0.4);
    await send('/mod/dist1/mix', 0.5);
    await send('/mod/reverb1/room', 0.7);
    await send('/mod/delay1/time', 0.3);
    await send('/mod/delay1/feedback', 0.5);
    await send('/seq/add', 'kick', 'voice1', 'X...x...X...x.xx', 55, 300, 'base_amp=0.15');
    await send('/seq/add', 'acid', 'voice2', 'x.X.x.xX', 110, 600, 'C2 Eb2 G2 C3', 'base_amp=0.12');
    await send('/seq/add', 'hats', 'voice3', '..x...x...x...X.', 440, 6000, 'base_amp=0.05');
    await send('/seq/bpm', 132);
    await send('/seq/swing', 0.1);
    await send('/seq/start');
    await e.send('/gate/voice4', [1], 4800);
    await e.send('/mod/voice4/freq', [880], 48000);
    await e.send('/gate/voice4', [0], 72000);
    return e.render(GOLDEN_SECONDS);
  } finally {
    await e.close();
  }
}

/** `chronus render <score.json> -o out.wav`: offline, as fast as possible, with a progress bar. */
import { debuglog } from 'node:util';
import { renderProgress } from './progress.ts';
import type { Config } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { renderScore } from './render/render-score.ts';
import { readScore } from './render/score.ts';
import type { WavSampleFormat } from '../plugin-sdk/wav/index.ts';

const FORMATS = ['int16', 'int24', 'float32'];
/** `NODE_DEBUG=chronus:render`: the render loop's own time (wall and CPU), without the process's start-up. */
const trace = debuglog('chronus:render');

/** `onProgress` that also traces when each whole second of audio was done (ms into the loop): the first ones carry the JIT's warm-up. */
function splitTimes(onProgress: (done: number, total: number) => void, sampleRate: number, wall0: number): (done: number, total: number) => void {
  let next = sampleRate;
  const at: number[] = [];
  return (done, total) => {
    onProgress(done, total);
    if (done < next && done < total) return;
    at.push(Math.round(performance.now() - wall0));
    next += sampleRate;
    if (done >= total) trace('seconds of audio done at (ms): %s', at.join(' '));
  };
}

export async function renderCommand(config: Config, args: string[], values: { out?: string; seconds?: string; format?: string; session?: string; from?: string; to?: string }): Promise<number> {
  if (values.format !== undefined && !FORMATS.includes(values.format)) throw new Error(`--format must be one of ${FORMATS.join(', ')} (found '${values.format}')`);
  // A session's replay (its journal reader, zlib, snapshots) is loaded only for a session.
  if (values.session !== undefined) return (await import('./render-session.ts')).renderSession(config, values);
  if (values.from !== undefined || values.to !== undefined) throw new Error('--from and --to go with --session: chronus render --session <id> -o out.wav --from 12:00');
  const [scoreFile] = args;
  if (!scoreFile || !values.out) throw new Error('render needs a score and an output file: chronus render score.json -o out.wav');
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
  if (seconds !== undefined && !(seconds > 0)) throw new Error(`--seconds must be a positive number (found '${values.seconds}')`);
  const score = await readScore(scoreFile);
  const engine = await Engine.start({ config, backend: 'offline', log: new Logger((l) => process.stderr.write(`${l}\n`), true) });
  let errors = 0;
  try {
    const sr = engine.audio.sampleRate;
    const progress = renderProgress('rendering', sr);
    const wall0 = performance.now();
    const cpu0 = process.cpuUsage();
    const frames = await renderScore(engine, score, {
      out: values.out,
      seconds,
      format: values.format as WavSampleFormat | undefined,
      onReply: (address, replyArgs) => {
        if (address === '/error') {
          errors++;
          process.stderr.write(`chronus: score: ${replyArgs.join(' ')}\n`);
        }
      },
      onProgress: trace.enabled ? splitTimes(progress.onProgress, sr, wall0) : progress.onProgress,
    });
    progress.stop();
    const cpu = process.cpuUsage(cpu0);
    trace('render loop: %d ms wall, %d ms CPU', Math.round(performance.now() - wall0), Math.round((cpu.user + cpu.system) / 1000));
    process.stdout.write(`chronus: wrote ${values.out} (${(frames / sr).toFixed(3)} s, ${frames} frames)\n`);
  } finally {
    await engine.stop();
  }
  return errors > 0 ? 1 : 0;
}

/** `chronus render <score.json> -o out.wav`: offline, as fast as possible, with a progress bar. */
import { renderProgress } from './progress.ts';
import type { Config } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { renderScore } from './render/render-score.ts';
import { readScore } from './render/score.ts';
import type { WavSampleFormat } from '../plugin-sdk/wav/index.ts';
import { renderSession } from './render-session.ts';

const FORMATS = ['int16', 'int24', 'float32'];

export async function renderCommand(config: Config, args: string[], values: { out?: string; seconds?: string; format?: string; session?: string; from?: string; to?: string }): Promise<number> {
  if (values.format !== undefined && !FORMATS.includes(values.format)) throw new Error(`--format must be one of ${FORMATS.join(', ')} (found '${values.format}')`);
  if (values.session !== undefined) return renderSession(config, values);
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
      onProgress: progress.onProgress,
    });
    progress.stop();
    process.stdout.write(`chronus: wrote ${values.out} (${(frames / sr).toFixed(3)} s, ${frames} frames)\n`);
  } finally {
    await engine.stop();
  }
  return errors > 0 ? 1 : 0;
}

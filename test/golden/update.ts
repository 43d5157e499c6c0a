/** `npm run golden`: re-render the golden score and overwrite the reference WAV (after an intended change of sound). */
import { openWavFile } from '../../cli/render/wav-file.ts';
import { GOLDEN_FILE, renderGolden } from './score.ts';

const { l, r } = await renderGolden();
const w = await openWavFile(GOLDEN_FILE, { sampleRate: 48000, channels: 2, format: 'int16', overwrite: true });
await w.append([l, r]);
await w.close();
process.stdout.write(`wrote ${GOLDEN_FILE} (${l.length} frames)\n`);

/**
 * Memory over many reloads of the voices plugin (issue "Live plugins"): each reload bundles the
 * plugin, tries it off the audio thread and swaps it in. Offline engine in this process, so the
 * control side (bundles, trial engines) and the audio side (instances) are both counted.
 *
 *   npm run bench -- reload-memory [--reloads 1000] [--stage 1]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OfflineEngine } from '../test/helpers/offline-engine.ts';

const { values } = parseArgs({ options: { reloads: { type: 'string', default: '1000' }, stage: { type: 'string', default: '0.05' } } });
const reloads = Number(values.reloads);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench -- reload-memory does)');

const e = await OfflineEngine.start({
  only: ['voices', 'reverb', 'delay', 'distortion', 'limiter'],
  configure: (c) => {
    // The trial render is the slowest part of a reload; a short one keeps 1,000 reloads quick
    // without changing what is allocated per reload.
    c.engine.stageSeconds = Number(values.stage);
  },
});
const folder = path.join(e.root, 'plugins/voices');
for (let v = 1; v <= 8; v++) await e.send(`/gate/voice${v}`, [1]);
const measure = () => {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed / 2 ** 20, rss: m.rss / 2 ** 20 };
};
// Warm up: the first reloads fill caches (esbuild service, JIT) that are not growth.
for (let i = 0; i < 20; i++) {
  await e.engine.plugins.load(folder);
  e.render(0.02);
}
const before = measure();
const began = performance.now();
for (let i = 1; i <= reloads; i++) {
  await e.engine.plugins.load(folder);
  e.render(0.02);
  if (i % 250 === 0) {
    const m = measure();
    process.stdout.write(`  after ${i} reloads: heap ${m.heap.toFixed(1)} MiB, RSS ${m.rss.toFixed(1)} MiB\n`);
  }
}
const after = measure();
process.stdout.write(
  `${reloads} reloads of voices in ${((performance.now() - began) / 1000).toFixed(1)} s: ` +
    `heap ${before.heap.toFixed(1)} → ${after.heap.toFixed(1)} MiB (${(after.heap - before.heap).toFixed(2)} MiB), ` +
    `RSS ${before.rss.toFixed(1)} → ${after.rss.toFixed(1)} MiB (${(after.rss - before.rss).toFixed(2)} MiB)\n`,
);
await e.close();

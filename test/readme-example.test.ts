/** The plugin example in the README is real: it loads, gets its routes, and does what it says. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from './helpers/offline-engine.ts';

function block(readme: string, after: string, lang: string): string {
  const at = readme.indexOf(after);
  assert.ok(at >= 0, `README mentions ${after}`);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  assert.ok(m, `a ${lang} block after ${after}`);
  return m[1];
}

test('the README tremolo plugin loads and modulates the main bus', async (t) => {
  const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-readme-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'tremolo'));
  await writeFile(path.join(dir, 'tremolo/plugin.json'), block(readme, '`plugins/tremolo/plugin.json`', 'json'));
  await writeFile(path.join(dir, 'tremolo/index.ts'), block(readme, '`plugins/tremolo/index.ts`', 'ts'));
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(dir, 'tone'), { recursive: true });
  const e = await OfflineEngine.start({ pluginsFrom: dir });
  t.after(() => e.close());
  assert.ok(e.engine.router.has('/mod/trem1/rate') && e.engine.router.has('/mod/trem1/depth'));
  await e.send('/mod/trem1/depth', [1]);
  await e.send('/mod/trem1/rate', [4]);
  await e.send('/gate/tone1', [1]);
  e.render(0.1);
  const { l } = e.render(1);
  // Peak per 10 ms window swings between near 0 and the tone's 0.5, four times a second.
  const peaks: number[] = [];
  for (let w = 0; w + 480 <= l.length; w += 480) peaks.push(l.subarray(w, w + 480).reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  assert.ok(Math.max(...peaks) > 0.45 && Math.min(...peaks) < 0.05, `${Math.min(...peaks)}..${Math.max(...peaks)}`);
});

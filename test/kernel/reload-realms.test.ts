/**
 * Replaced plugin versions do not pile up (issue 16): every version is evaluated in a realm of its
 * own (a vm context) on the control thread, the audio thread and the standby, and once a version is
 * replaced its realms must be collectable. Counted in heap snapshots of each thread (taking one runs
 * a full collection first), never in RSS or time: 20 more reloads leave each thread with as many
 * realms as a few did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import type { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { loadConfig } from '../../kernel/base/config.ts';
import { Engine } from '../../kernel/engine/engine.ts';
import { Logger } from '../../kernel/base/logger.ts';
import { FIXTURE_PLUGINS, writeTestConfig } from '../helpers/offline-engine.ts';

/** Live native contexts (realms, the thread's own included) in a heap snapshot. */
async function realms(snapshot: Readable): Promise<number> {
  let text = '';
  for await (const chunk of snapshot) text += chunk;
  const { snapshot: { meta }, nodes, strings } = JSON.parse(text) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[]; strings: string[] };
  const fields = meta.node_fields.length;
  const name = meta.node_fields.indexOf('name');
  // Named 'system / NativeContext', with the realm's name after it when it has one ('… / chronus plugin').
  const isContext = strings.map((s) => s === 'system / NativeContext' || s.startsWith('system / NativeContext /'));
  let n = 0;
  for (let i = name; i < nodes.length; i += fields) if (isContext[nodes[i]]) n++;
  return n;
}

test('20 hot reloads leave no realm of a replaced version alive on the control thread, the audio thread or the standby', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-realms-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  const folder = path.join(root, 'plugins/tone');
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), folder, { recursive: true });
  const config = loadConfig({ root, env: {} });
  config.audio.dedicatedCpu = false;
  const engine = await Engine.start({ config, root, backend: 'null', listen: false, status: false, watch: false, log: Logger.silent() });
  t.after(() => engine.stop());
  // The host's threads are private: the test counts what they hold.
  const threads = engine.audio as unknown as { worker: Worker; standby: Promise<Worker> };
  const count = async () => ({
    control: await realms(v8.getHeapSnapshot()),
    audio: await realms(await threads.worker.getHeapSnapshot()),
    standby: await realms(await (await threads.standby).getHeapSnapshot()),
  });
  // Each version's code differs (a comment would not: the bundler drops it, and the same code is the same version).
  const source = await readFile(path.join(folder, 'index.ts'), 'utf8');
  let reloads = 0;
  const reload = async (times: number) => {
    for (let i = 0; i < times; i++) {
      await writeFile(path.join(folder, 'index.ts'), `${source}\nexport const reload = ${++reloads};\n`);
      await engine.plugins.load(folder);
    }
  };

  await reload(3);
  const few = await count();
  await reload(20);
  // A replaced version is kept a while on purpose (the fallback of a reload that fails live within
  // 3 s, the standby's prime a second after the last change): wait for the counts, at most 30 s. A
  // realm kept per version would leave 20 more.
  const bounded = (c: typeof few) => c.control <= few.control + 2 && c.audio <= few.audio + 2 && c.standby <= few.standby + 2;
  const until = Date.now() + 30_000;
  let many = await count();
  while (!bounded(many) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    many = await count();
  }
  assert.ok(bounded(many), `realms after 3 reloads ${JSON.stringify(few)}, after 23 ${JSON.stringify(many)}`);
  assert.ok(few.audio >= 2 && few.standby >= 2, `each audio thread holds the live version's realm beside its own (${JSON.stringify(few)})`);
});

/**
 * A control half's `create` that does not finish — waiting on something that never comes — holds up
 * neither the engine's start nor the other plugins (kernel/plugins/control-halves.ts): after twice
 * engine.trialTimeoutMs the engine goes on and says so; one that finishes later goes live then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';

const manifest = (id: string) => ({ id, name: id, version: '1.0.0', apiVersion: 1, role: 'controller', control: 'control.ts', description: 'a slow start', routes: [`/${id}/ping`] });

const control = (id: string, create: string) => `
import { defineControl, z } from 'plugin-sdk';
export default defineControl({
  async create(ctx) {
    ${create}
    ctx.route('/${id}/ping', { args: z.tuple([]), description: 'answers /${id}/pong' }, (_a, r) => r.reply('/${id}/pong'));
    return {};
  },
});
`;

test('a control half whose create never finishes: the engine starts and plays without it; a late one goes live when it finishes', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-slow-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [id, create] of [
    ['never', 'await new Promise(() => {});'],
    ['late', 'await new Promise((resolve) => ctx.timers.setTimeout(resolve, 1500));'],
  ]) {
    await mkdir(path.join(dir, id));
    await writeFile(path.join(dir, id, 'plugin.json'), JSON.stringify(manifest(id)));
    await writeFile(path.join(dir, id, 'control.ts'), control(id, create));
  }
  // Waits 2 × 250 ms for each create (before: forever, and the engine never finished starting).
  const e = await OfflineEngine.start({ pluginsFrom: [FIXTURE_PLUGINS, dir], only: ['tone', 'never', 'late'], configure: (c) => (c.engine.trialTimeoutMs = 250) });
  t.after(() => e.close());

  await e.send('/gate/tone1', [1]);
  const out = e.render(0.1);
  assert.ok(out.l.some((x) => Math.abs(x) > 0.1), 'the tone plays');
  assert.equal(e.engine.plugins.controls.has('never'), false);
  await e.send('/never/ping');
  assert.equal(e.lastReply('/never/pong'), undefined);

  // "late" finishes its create after 1.5 s: from then on it answers.
  const until = Date.now() + 10_000;
  while (!e.engine.plugins.controls.has('late')) {
    assert.ok(Date.now() < until, 'late goes live');
    await new Promise((r) => setTimeout(r, 20));
  }
  await e.send('/late/ping');
  assert.equal(e.lastReply('/late/pong')?.address, '/late/pong');
  assert.match(e.engine.events.text(), /never: .*has not finished create\(\) after 500 ms/);
});

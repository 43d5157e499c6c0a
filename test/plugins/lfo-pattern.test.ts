/**
 * lfo1 / lfo2 with a target pattern: a `*` in the address stands for every index 1…128, so one LFO
 * modulates many parameters (`/mod/voice*\/filter/freq`: every voice's cutoff). The `param-probe`
 * fixture writes its unsmoothed parameter `x` as DC (xprobe1 → left, xprobe2 → right).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from '../helpers/offline-engine.ts';

const PLUGINS = path.join(PROJECT_ROOT, 'plugins');

type T = { after(fn: () => Promise<void>): void };

async function start(t: T): Promise<OfflineEngine> {
  const e = await OfflineEngine.start({
    pluginsFrom: [PLUGINS, FIXTURE_PLUGINS],
    only: ['lfo', 'param-probe'],
    configure: (c) => (c.engine.smoothingMs = 0),
  });
  t.after(() => e.close());
  return e;
}

async function setParams(e: OfflineEngine, module: string, values: Record<string, number>): Promise<void> {
  for (const [name, v] of Object.entries(values)) await e.send(`/mod/${module}/${name}`, [v]);
  e.render(0, e.host.blockSize);
}

const reply = (e: OfflineEngine) => JSON.parse(e.lastReply('/mod/lfo1/target')!.args[0] as string) as Record<string, unknown>;

test('a * pattern modulates every matching parameter with the same offset; retargeting releases the ones left', async (t) => {
  const e = await start(t);
  const block = e.host.blockSize;
  await e.send('/mod/xprobe1/x', [0.1]);
  await e.send('/mod/xprobe2/x', [-0.1]);
  await e.send('/mod/lfo1/target', ['/mod/xprobe*/x']);
  assert.deepEqual(reply(e), { module: 'lfo1', target: '/mod/xprobe*/x', resolved: true, matches: 2 });
  await setParams(e, 'lfo1', { rate: 1, depth: 0, range: 1, offset: 0.3, shape: 0 });
  let out = e.render(0, 4 * block);
  for (let i = 0; i < out.l.length; i += 17) {
    assert.ok(Math.abs(out.l[i] - 0.4) < 1e-6, `xprobe1 at ${i}: ${out.l[i]}`);
    assert.ok(Math.abs(out.r[i] - 0.2) < 1e-6, `xprobe2 at ${i}: ${out.r[i]}`);
  }

  // lfo2 on one of them: the offsets add there only.
  await setParams(e, 'lfo2', { rate: 1, depth: 0, range: 1, offset: -0.05, shape: 0 });
  await e.send('/mod/lfo2/target', ['/mod/xprobe2/x']);
  out = e.render(0, 2 * block);
  assert.ok(Math.abs(out.l.at(-1)! - 0.4) < 1e-6, `${out.l.at(-1)}`);
  assert.ok(Math.abs(out.r.at(-1)! - 0.15) < 1e-6, `${out.r.at(-1)}`);

  // Narrowing lfo1 to xprobe1 leaves xprobe2 with lfo2's offset alone.
  await e.send('/mod/lfo1/target', ['xprobe1/x']);
  assert.deepEqual(reply(e), { module: 'lfo1', target: '/mod/xprobe1/x', resolved: true });
  out = e.render(0, 2 * block);
  assert.ok(Math.abs(out.l[0] - 0.4) < 1e-6);
  assert.ok(Math.abs(out.r[0] - -0.15) < 1e-6, `${out.r[0]}`);

  // "none" on both: every target back at its base value.
  await e.send('/mod/lfo1/target', ['none']);
  await e.send('/mod/lfo2/target', ['none']);
  out = e.render(0, 2 * block);
  assert.ok(Math.abs(out.l[0] - 0.1) < 1e-7 && Math.abs(out.r[0] + 0.1) < 1e-7, `${out.l[0]} ${out.r[0]}`);
});

test('a pattern that matches nothing is refused; a pattern survives the state round trip', async (t) => {
  const e = await start(t);
  await e.send('/mod/lfo1/target', ['/mod/xprobe*/x']);
  await e.send('/mod/lfo1/target', ['/mod/nothing*/x']);
  const err = e.lastReply('/error')!;
  assert.equal(err.args[1], 'LFO_UNKNOWN_TARGET');
  assert.match(String(err.args[2]), /no parameter matches \/mod\/nothing\*\/x.*target unchanged: \/mod\/xprobe\*\/x/);
  const state = (await e.host.call('getState', 'lfo')) as { modules: { lfo1: { target: string } } };
  assert.equal(state.modules.lfo1.target, '/mod/xprobe*/x');

  const f = await start(t);
  await setParams(f, 'lfo1', { rate: 1, depth: 0, range: 1, offset: 0.25, shape: 0 });
  await f.host.call('setState', 'lfo', JSON.parse(JSON.stringify(state)));
  const out = f.render(0, 2 * f.host.blockSize);
  assert.ok(Math.abs(out.l.at(-1)! - 0.25) < 1e-6 && Math.abs(out.r.at(-1)! - 0.25) < 1e-6, `${out.l.at(-1)} ${out.r.at(-1)}`);
});

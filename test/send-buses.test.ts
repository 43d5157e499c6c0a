/**
 * Declared send buses, end to end on a running engine (offline backend, watching its plugins folder,
 * a temp copy of plugins/): dropping the chorus folder in gives every voice `send/chorus` (route,
 * /engine/schema, the audio side) and puts its sound on master; removing the folder, or disabling
 * the plugin in config/local.json, takes both away again. The reverb and delay sends keep their
 * values throughout. The sound is checked on exact samples: a short voice burst on voice2 whose
 * chorus (depth 0, time 40 ms, mix 1) is the burst itself 40 ms later, where without the chorus
 * there is silence.
 */
import assert from 'node:assert/strict';
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { OfflineEngine, PROJECT_ROOT } from './helpers/offline-engine.ts';

const CHORUS = path.join(PROJECT_ROOT, 'plugins/chorus');
const FS = 48000;
/** The chorus's delay with depth 0 (its `time` at the maximum, 40 ms). */
const LAG = 0.04 * FS;
/** The burst: 20 ms gated, 10 ms release: over by 30 ms, before its chorus starts at 40 ms. */
const GATE = 0.02 * FS;
const DRY_END = 0.032 * FS;

const energy = (x: Float32Array, from = 0, to = x.length) => {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i] * x[i];
  return e;
};

/** Render in small steps until `address` (matching) arrives after reply number `since`, then let the engine settle. */
async function renderUntil(e: OfflineEngine, since: number, address: string, match: (args: readonly unknown[]) => boolean): Promise<void> {
  const until = Date.now() + 20_000;
  while (!e.replies.slice(since).some((r) => r.address === address && match(r.args))) {
    if (Date.now() > until) throw new Error(`no ${address}; last replies ${JSON.stringify(e.replies.slice(-5))}`);
    e.render(0, 256);
    await new Promise((r) => setTimeout(r, 2));
  }
  await e.engine.settle();
}

/** Whether voice1 has `send/<bus>`: its route, its entry in /engine/schema (over the router), its parameter on the audio side. */
async function voiceHasSend(e: OfflineEngine, bus: string): Promise<boolean> {
  const routed = e.engine.router.has(`/mod/voice1/send/${bus}`);
  await e.send('/engine/schema', ['json']);
  const schema = JSON.parse(String(e.lastReply('/engine/schema')!.args[0])) as { modules: Record<string, { params: Record<string, unknown> }> };
  const listed = `send/${bus}` in schema.modules.voice.params;
  assert.equal(listed, routed, `send/${bus}: the route and /engine/schema agree`);
  return routed;
}

/** Base value of voice1's `name` on the control side and on the audio side (they must agree). */
function voice1Value(e: OfflineEngine, name: string): number {
  e.render(0, 256); // the audio side takes what was sent at its next block
  const p = e.engine.registry.param('voice1', name);
  assert.ok(p, `voice1 has ${name}`);
  const control = e.engine.registry.values[p.index];
  assert.equal(e.host.engine.bank.get(p.index)?.base, control, `${name}: the audio side holds the control side's value`);
  return control;
}

/** Plays voice2's burst (send/chorus 1 when it has it) and returns 0.1 s from its gate on. */
async function burst(e: OfflineEngine): Promise<Float32Array> {
  const at = e.frame + 512;
  await e.send('/gate/voice2', [1], at);
  await e.send('/gate/voice2', [0], at + GATE);
  e.render(0, 512);
  return e.render(0.1).l;
}

test('dropping the chorus folder in adds send/chorus and its sound; removing it takes both away; reverb and delay sends keep their values', async (t) => {
  const e = await OfflineEngine.start({ only: ['voices', 'reverb', 'delay'], watch: true, configure: (c) => (c.audio.sampleRate = FS) });
  t.after(() => e.close());
  await e.send('/mod/voice1/send/reverb', [0.3]);
  await e.send('/mod/voice1/send/delay', [0.2]);
  for (const [p, v] of [['osc/type', 1], ['freq', 330], ['amp', 0.5], ['adsr/attack', 0.001], ['adsr/decay', 0], ['adsr/sustain', 1], ['adsr/release', 0.01]] as const) {
    await e.send(`/mod/voice2/${p}`, [v]);
  }
  e.render(0.1);
  assert.equal(await voiceHasSend(e, 'chorus'), false);
  const dry = await burst(e);
  assert.ok(energy(dry, 0, DRY_END) > 1, 'the burst sounds');
  assert.equal(energy(dry, DRY_END), 0, 'and nothing after it without a chorus');

  const folder = path.join(e.root, 'plugins/chorus');
  let since = e.replies.length;
  await cp(CHORUS, folder, { recursive: true });
  await renderUntil(e, since, '/engine/plugin/reloaded', (a) => a[0] === 'voices');
  assert.ok(await voiceHasSend(e, 'chorus'), 'every voice gets send/chorus');
  assert.ok(e.engine.router.has('/mod/voice8/send/chorus'));
  assert.equal(voice1Value(e, 'send/chorus'), 0, 'a new send starts at 0');
  assert.equal(voice1Value(e, 'send/reverb'), 0.3);
  assert.equal(voice1Value(e, 'send/delay'), 0.2);

  await e.send('/mod/voice2/send/chorus', [1]);
  for (const [p, v] of [['time', 40], ['depth', 0], ['mix', 1], ['feedback', 0]] as const) await e.send(`/mod/chorus1/${p}`, [v]);
  e.render(0.1);
  const wet = await burst(e);
  let worst = 0;
  for (let i = 0; i < DRY_END; i++) worst = Math.max(worst, Math.abs(wet[i + LAG] - wet[i]));
  assert.ok(energy(wet, LAG, LAG + DRY_END) > 1, 'the chorus puts the burst on master 40 ms later');
  assert.ok(worst < 1e-5, `the chorus is an exact 40 ms copy of the burst (largest difference ${worst})`);
  assert.equal(energy(wet, DRY_END, LAG), 0, 'with silence between');

  since = e.replies.length;
  await rm(folder, { recursive: true });
  await renderUntil(e, since, '/engine/plugin/reloaded', (a) => a[0] === 'voices');
  assert.equal(await voiceHasSend(e, 'chorus'), false, 'send/chorus is gone with the folder');
  assert.ok(!e.engine.router.has('/mod/chorus1/mix'));
  assert.equal(voice1Value(e, 'send/reverb'), 0.3);
  assert.equal(voice1Value(e, 'send/delay'), 0.2);
  const notices = e.replies.slice(since).filter((r) => r.address === '/engine/notice' && /chorus/.test(String(r.args[1])));
  // (Each broadcast arrives twice here: as a broadcast and as a reply to the test client.)
  assert.deepEqual(new Set(notices.map((n) => String(n.args[1]).replace(/:.*/, ''))), new Set(['send bus "chorus" is gone (no loaded send plugin declares it)']), 'one notice for the bus, not one per voice');
  e.render(0.1);
  const after = await burst(e);
  assert.equal(energy(after, DRY_END), 0, 'and its sound is gone');
  assert.ok(energy(after, 0, DRY_END) > 1);
  // The voices version that fed it is kept as a fallback for 3 s after the reload; then the bus goes too.
  assert.ok(e.host.engine.hasBus('send:chorus'));
  e.render(3.1);
  assert.ok(!e.host.engine.hasBus('send:chorus'), 'no bus left behind');
  assert.ok(e.host.engine.hasBus('send:reverb') && e.host.engine.hasBus('send:delay'));
});

test('disabling and enabling the chorus in config/local.json removes and restores send/chorus; a voice keeps its other sends', async (t) => {
  const e = await OfflineEngine.start({ only: ['voices', 'reverb', 'delay', 'chorus'], watch: true });
  t.after(() => e.close());
  assert.ok(await voiceHasSend(e, 'chorus'));
  await e.send('/mod/voice1/send/delay', [0.7]);
  await e.send('/mod/voice1/send/chorus', [0.4]);
  const local = path.join(e.root, 'config/local.json');
  let since = e.replies.length;
  await writeFile(local, JSON.stringify({ plugins: { chorus: { enabled: false } } }));
  await renderUntil(e, since, '/engine/plugin/reloaded', (a) => a[0] === 'voices');
  assert.equal(await voiceHasSend(e, 'chorus'), false);
  assert.equal(voice1Value(e, 'send/delay'), 0.7);
  since = e.replies.length;
  await writeFile(local, JSON.stringify({ plugins: { chorus: { enabled: true } } }));
  await renderUntil(e, since, '/engine/plugin/reloaded', (a) => a[0] === 'voices');
  assert.ok(await voiceHasSend(e, 'chorus'));
  assert.equal(voice1Value(e, 'send/chorus'), 0, 'a send that was gone comes back at its default');
  assert.equal(voice1Value(e, 'send/delay'), 0.7);
});

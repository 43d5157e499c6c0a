import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';
import { Slot } from '../../kernel/audio/shared-state.ts';
import { OscRouter } from '../../kernel/osc/osc-router.ts';
import { z } from 'zod';

const onset = (x: Float32Array, from = 0): number => x.findIndex((v, i) => i >= from && v !== 0);

async function engine(): Promise<OfflineEngine> {
  return OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
}

test('every parameter of the table gets a generated /mod route with its range in the description', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  const routes = e.engine.router.routes();
  for (const m of ['tone1', 'tone2']) {
    for (const p of ['freq', 'amp']) assert.ok(routes.some((r) => r.address === `/mod/${m}/${p}`), `/mod/${m}/${p}`);
    assert.ok(routes.some((r) => r.address === `/gate/${m}`));
  }
  assert.match(routes.find((r) => r.address === '/mod/tone1/freq')!.description, /20–5000 Hz \(default 440\)/);
});

test('out-of-range values are clamped and counted, ints and floats alike, with or without a list wrapper', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  const index = e.engine.registry.param('tone1', 'freq')!.index;
  await e.send('/mod/tone1/freq', [99999]);
  assert.equal(e.engine.registry.values[index], 5000);
  await e.send('/mod/tone1/freq', [-3]);
  assert.equal(e.engine.registry.values[index], 20);
  await e.send('/mod/tone1/freq', [[330]]);
  assert.equal(e.engine.registry.values[index], 330);
  assert.equal(e.engine.control.clampedCount, 2);
  assert.equal(e.replies.filter((r) => r.address === '/error').length, 0);
});

test('wrong types, wrong counts and unknown addresses get an /error naming the address, and nothing changes', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  const index = e.engine.registry.param('tone1', 'freq')!.index;
  await e.send('/mod/tone1/freq', ['loud']);
  await e.send('/mod/tone1/freq', [1, 2]);
  await e.send('/mod/tone1/freq', []);
  await e.send('/mod/tone1/frq', [440]);
  const errors = e.replies.filter((r) => r.address === '/error');
  assert.equal(errors.length, 4);
  assert.deepEqual(errors.map((r) => r.args[1]), ['OSC_BAD_ARGS', 'OSC_BAD_ARGS', 'OSC_BAD_ARGS', 'OSC_UNKNOWN_ADDRESS']);
  assert.equal(errors[0].args[0], '/mod/tone1/freq');
  assert.match(String(errors[0].args[2]), /argument 1: expected a number/);
  assert.equal(errors[3].args[0], '/mod/tone1/frq');
  assert.equal(e.engine.registry.values[index], 440);
  assert.equal(e.engine.router.counters.unknownAddress, 1);
  assert.equal(e.engine.router.counters.badArgs, 3);
});

test('a message for an exact frame takes effect at that sample, inside a block', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  await e.send('/gate/tone1', [1], 1234);
  const { l } = e.render(0.1);
  assert.equal(onset(l), 1234);
});

test('a bundle timetag in the future takes effect at the exact sample; a past one at once, with /late', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  const v = e.engine.audio.shared.values;
  const t0 = 1_700_000_000_000;
  v[Slot.AnchorWallMs] = t0; // frame 0 is heard at t0
  v[Slot.AnchorFrame] = 0;
  e.engine.dispatch({ address: '/gate/tone1', args: [1], timetag: t0 + 250, remote: { address: 'test', port: 1 } });
  const { l } = e.render(0.5);
  assert.equal(onset(l), 12000); // 250 ms at 48 kHz
  e.engine.dispatch({ address: '/gate/tone2', args: [1], timetag: t0 + 100, remote: { address: 'test', port: 1 } });
  const late = e.lastReply('/late');
  assert.ok(late, 'a /late reply');
  assert.equal(late.args[0], '/gate/tone2');
  assert.ok(Number(late.args[1]) > 0);
});

test('legacy aliases reach the module they name', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  e.engine.router.alias('/mod/sine9/', '/mod/tone1/');
  await e.send('/mod/sine9/freq', [880]);
  assert.equal(e.engine.registry.values[e.engine.registry.param('tone1', 'freq')!.index], 880);
  assert.ok(e.engine.router.routes().some((r) => r.address === '/mod/sine9/*'));
});

test('engine routes answer with JSON: status, schema, routes, plugins', async (t) => {
  const e = await engine();
  t.after(() => e.close());
  await e.send('/engine/status');
  await e.send('/engine/schema');
  await e.send('/engine/routes');
  await e.send('/engine/plugins');
  await e.send('/engine/list');
  const status = JSON.parse(String(e.lastReply('/engine/status')!.args[0]));
  assert.equal(status.backend, 'offline');
  assert.equal(status.sampleRate, 48000);
  const schema = JSON.parse(String(e.lastReply('/engine/schema')!.args[0]));
  assert.deepEqual(schema.modules.tone.instances, ['tone1', 'tone2']);
  assert.deepEqual(schema.modules.tone.params.freq, { type: 'float', min: 20, max: 5000, default: 440, smoothing_ms: 20, unit: 'Hz' });
  const routes = JSON.parse(String(e.lastReply('/engine/routes')!.args[0]));
  assert.ok(routes.some((r: { address: string }) => r.address === '/engine/status'));
  const plugins = JSON.parse(String(e.lastReply('/engine/plugins')!.args[0]));
  assert.equal(plugins[0].id, 'tone');
  assert.match(String(e.lastReply('/engine/list')!.args[0]), /tone1 \[tone\] gate: freq=440 amp=0.5/);
});

test('/engine/schema reports the smoothing the audio side applies (engine.smoothingMs), not a fixed 20 ms', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'], configure: (c) => (c.engine.smoothingMs = 35) });
  t.after(() => e.close());
  await e.send('/engine/schema');
  const schema = JSON.parse(String(e.lastReply('/engine/schema')!.args[0]));
  assert.equal(schema.modules.tone.params.freq.smoothing_ms, 35);
});

test('an asynchronous handler that never finishes holds up no wait for longer than the router waits: its sender is told', async () => {
  const sent: { address: string; args: readonly unknown[] }[] = [];
  const router = new OscRouter({ send: (_r, address, args) => sent.push({ address, args }), sendJson: () => undefined }, null, 50);
  router.mapRoute('/stuck', () => new Promise<void>(() => undefined), { args: z.tuple([]), description: 'never finishes' });
  router.mapRoute('/quick', async (_a, ctx) => ctx.reply('/quick/done'), { args: z.tuple([]), description: 'finishes' });
  const remote = { address: '127.0.0.1', port: 9 };
  router.dispatch({ address: '/stuck', args: [], remote });
  router.dispatch({ address: '/quick', args: [], remote });
  // Before, idle() (what /engine/ping, settle and ctx.engine.send wait on) waited for /stuck forever.
  await router.idle();
  assert.deepEqual(sent.map((m) => m.address), ['/quick/done', '/error']);
  assert.deepEqual(sent[1].args.slice(0, 2), ['/stuck', 'OSC_HANDLER_LATE']);
  assert.equal(router.counters.handlersLate, 1);
});

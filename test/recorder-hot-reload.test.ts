/**
 * The recorder is a plugin like any other: deleting its folder from a running engine (hot reload on)
 * takes exactly its routes and its module away — every other route in /engine/schema stays, the sound
 * does not change by a sample — and dropping the folder back brings them back, recording again.
 * Turning it off in config/local.json leaves stand-ins that say how to turn it on again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from './helpers/offline-engine.ts';

const RECORDER = path.join(PROJECT_ROOT, 'plugins', 'recorder');
const RECORD_ROUTES = ['/engine/record/start', '/engine/record/status', '/engine/record/stop'];

function start(watch: boolean): Promise<OfflineEngine> {
  return OfflineEngine.start({
    pluginsFrom: [FIXTURE_PLUGINS, path.dirname(RECORDER)],
    only: watch ? ['tone', 'recorder'] : ['tone'],
    watch,
    configure: (c) => {
      c.plugins.recorder = { enabled: true, format: 'int16' };
    },
  });
}

async function schema(e: OfflineEngine): Promise<{ routes: string[]; modules: string[]; commands: string[] }> {
  await e.send('/engine/schema', ['json']);
  const doc = JSON.parse(String(e.lastReply('/engine/schema')!.args[0])) as { registered_routes: string[]; modules: Record<string, { instances?: string[] }>; engine_commands: Record<string, unknown> };
  const modules = Object.values(doc.modules).flatMap((m) => m.instances ?? []);
  return { routes: [...doc.registered_routes].sort(), modules: modules.sort(), commands: Object.keys(doc.engine_commands).sort() };
}

/** Renders block by block (`step`) until `address <id>` arrives at `e` (a reload lands between two blocks). */
async function renderUntil(e: OfflineEngine, address: string, id: string, step: () => void = () => e.render(0, 256)): Promise<void> {
  const until = Date.now() + 15_000;
  const seen = () => e.replies.some((r) => r.address === address && r.args[0] === id);
  while (!seen()) {
    assert.ok(Date.now() < until, `no ${address} ${id}; got ${JSON.stringify(e.replies.slice(-4))}`);
    step();
    await new Promise((r) => setTimeout(r, 2));
  }
  await e.engine.watcher?.idle();
  await e.engine.settle();
}

test('deleting plugins/recorder removes exactly its routes and module, the sound unchanged; dropping it back restores them', async (t) => {
  const e = await start(true);
  t.after(() => e.close());
  const reference = await start(false);
  t.after(() => reference.close());
  for (const oe of [e, reference]) {
    await oe.send('/mod/tone1/amp', [0.5]);
    await oe.send('/gate/tone1', [1]);
  }
  const heard: Float32Array[] = [];
  heard.push(e.render(0.1).l, reference.render(0.1).l);

  const before = await schema(e);
  for (const r of RECORD_ROUTES) assert.ok(before.routes.includes(r) && before.commands.includes(r), r);
  assert.ok(before.modules.includes('rec1'));

  const folder = path.join(e.root, 'plugins', 'recorder');
  await rm(folder, { recursive: true });
  // Both engines render the same blocks: the watched one and a reference that never had a recorder.
  const lockstep = () => heard.push(e.render(0, 256).l, reference.render(0, 256).l);
  await renderUntil(e, '/engine/plugin/unloaded', 'recorder', lockstep);
  const gone = await schema(e);
  assert.deepEqual(gone.routes, before.routes.filter((r) => !RECORD_ROUTES.includes(r)), 'exactly its routes went');
  assert.deepEqual(gone.commands, before.commands.filter((r) => !RECORD_ROUTES.includes(r)));
  assert.deepEqual(gone.modules, before.modules.filter((m) => m !== 'rec1'), 'exactly its module went');
  for (const address of RECORD_ROUTES) {
    await e.send(address);
    assert.deepEqual(e.lastReply('/error')?.args.slice(0, 2), [address, 'OSC_UNKNOWN_ADDRESS']);
  }

  await cp(RECORDER, folder, { recursive: true });
  await renderUntil(e, '/engine/plugin/loaded', 'recorder', lockstep);
  assert.deepEqual(await schema(e), before, 'its routes and module are back, nothing else changed');
  await e.send('/engine/record/start', ['back']);
  assert.ok(e.lastReply('/engine/record/started'), JSON.stringify(e.replies.slice(-3)));
  heard.push(e.render(0.05).l, reference.render(0.05).l);
  await e.send('/engine/record/stop');
  assert.equal(e.lastReply('/engine/record/stopped')?.args[1], 2400);

  // Every block the watched engine rendered equals the reference's (rendered in pairs): the sound never changed.
  for (let k = 0; k < heard.length; k += 2) assert.deepEqual(heard[k], heard[k + 1], `block pair ${k / 2}`);
});

test('turned off in config/local.json while running: stand-ins answer RECORDER_DISABLED and stay listed; turned on, the routes are its own again', async (t) => {
  const e = await start(true);
  t.after(() => e.close());
  const local = path.join(e.root, 'config/local.json');
  await writeFile(local, JSON.stringify({ plugins: { recorder: { enabled: false } } }));
  await renderUntil(e, '/engine/plugin/unloaded', 'recorder');
  const off = await schema(e);
  for (const address of RECORD_ROUTES) {
    assert.ok(off.commands.includes(address), `${address} is still listed`);
    await e.send(address, ['x']);
    const err = e.lastReply('/error');
    assert.deepEqual(err?.args.slice(0, 2), [address, 'RECORDER_DISABLED']);
    assert.match(String(err?.args[2]), /plugins.*recorder.*enabled.*config\/local\.json/);
  }
  await writeFile(local, JSON.stringify({ plugins: { recorder: { enabled: true } } }));
  await renderUntil(e, '/engine/plugin/loaded', 'recorder');
  await e.send('/engine/record/status');
  assert.equal(JSON.parse(String(e.lastReply('/engine/record/status')?.args[0])).state, 'idle');
});

/**
 * The supervisor's last resort (cli/supervisor.ts): a plugin's control half runs on the engine's
 * control thread, where an allocation that exhausts the heap ends the process and a loop of awaits
 * freezes it for good (no time limit reaches either). The supervisor starts the engine again on the
 * same port, keeps the plugin to blame out until its files change, and gives up on an engine that
 * keeps failing. The failures are made to order: the engine killed while the breadcrumb says it is
 * inside the plugin's call (what a heap exhausted there looks like from outside), and a real loop of
 * awaits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OscClient } from '../cli/osc-client.ts';
import { breadcrumbFile, carryFile } from '../cli/supervisor.ts';
import { engineUnder, makeRoot, startEngineProcess, type EngineProcess } from './helpers/engine-process.ts';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';

const HOST = '127.0.0.1';

const MANIFEST = {
  id: 'ctl',
  name: 'Failing control half',
  version: '1.0.0',
  apiVersion: 1,
  role: 'controller',
  control: 'control.ts',
  description: 'Routes that stall or freeze the control thread, for the supervisor test.',
  routes: ['/ctl/ping', '/ctl/stall', '/ctl/starve'],
};

const CONTROL = `
import { defineControl, z } from 'plugin-sdk';
export default defineControl({
  create(ctx) {
    ctx.route('/ctl/ping', { args: z.tuple([]), description: 'answers /ctl/pong' }, (_a, r) => r.reply('/ctl/pong'));
    // Blocks inside the call (well within engine.controlCallMs): the test ends the engine meanwhile.
    ctx.route('/ctl/stall', { args: z.tuple([]), description: 'waits 20 s' }, () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000); });
    ctx.route('/ctl/starve', { args: z.tuple([]), description: 'a loop of awaits' }, async () => { for (;;) await 0; });
    return {};
  },
});
`;

/** An engine process with the tone fixture and the ctl plugin; `controlCallMs` as given (default: the project's). */
async function engineWithCtl(controlCallMs?: number): Promise<EngineProcess> {
  const root = await makeRoot(path.join(PROJECT_ROOT, 'test/fixtures/plugins'));
  for (const name of await readdir(path.join(root, 'plugins'))) if (name !== 'tone') await rm(path.join(root, 'plugins', name), { recursive: true });
  await mkdir(path.join(root, 'plugins/ctl'));
  await writeFile(path.join(root, 'plugins/ctl/plugin.json'), JSON.stringify(MANIFEST));
  await writeFile(path.join(root, 'plugins/ctl/control.ts'), CONTROL);
  const config = JSON.parse(await readFile(path.join(root, 'config/default.json'), 'utf8')) as { engine: Record<string, unknown> };
  if (controlCallMs !== undefined) config.engine.controlCallMs = controlCallMs;
  await writeFile(path.join(root, 'config/default.json'), JSON.stringify(config));
  const engine = await startEngineProcess({ root });
  const stop = engine.stop;
  return { ...engine, stop: async () => { await stop(); await rm(root, { recursive: true, force: true }); } };
}

/** Waits until the output has `count` lines matching `re`. */
async function linesMatching(engine: EngineProcess, re: RegExp, count: number, timeoutMs = 60_000): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const lines = engine.output.filter((l) => re.test(l));
    if (lines.length >= count) return lines;
    if (Date.now() > until) throw new Error(`timed out waiting for ${count} lines matching ${re}:\n${engine.output.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** /engine/status until the output peaks (the engine applies a gate at its next block; UDP may drop an answer). */
async function soundComesOut(client: OscClient, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const reply = await client.request(HOST, port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 1000 }).catch(() => null);
    if (((reply?.json as { peak?: number } | undefined)?.peak ?? 0) > 0.05) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('no sound after the restart');
}

async function ask(client: OscClient, port: number, address: string, reply: string | RegExp): Promise<{ address: string; args: unknown[] }> {
  const r = await client.request(HOST, port, address, [], { replyAddress: reply, timeoutMs: 5000 });
  return { address: r.address, args: r.args };
}

test('an engine that dies inside a control half starts again on its port without that plugin, which comes back when its files change', async (t) => {
  // Its stall must outlast the time the test takes to end the engine, not be stopped at 1 s.
  const engine = await engineWithCtl(30_000);
  t.after(() => engine.stop());
  const client = await OscClient.open();
  t.after(() => client.close());
  assert.equal((await ask(client, engine.port, '/ctl/ping', '/ctl/pong')).address, '/ctl/pong');
  // A value set over OSC, written down for a restart (the engine does so every second).
  client.send(HOST, engine.port, '/mod/tone1/freq', [330]);
  for (let tries = 0; !(await readFile(carryFile(engine.proc.pid as number), 'utf8').catch(() => '')).includes('"freq":330'); tries++) {
    assert.ok(tries < 400, 'the carry-over file has the new value');
    await new Promise((r) => setTimeout(r, 25));
  }

  client.send(HOST, engine.port, '/ctl/stall');
  const crumbFile = breadcrumbFile(engine.proc.pid as number);
  for (let tries = 0; !(await readFile(crumbFile, 'utf8').catch(() => '')).includes('"in":"ctl"'); tries++) {
    assert.ok(tries < 400, 'the breadcrumb names ctl while its call runs');
    await new Promise((r) => setTimeout(r, 25));
  }
  process.kill(engineUnder(engine.proc.pid as number), 'SIGKILL');

  const [, again] = await linesMatching(engine, /listening on/, 2);
  assert.match(again, new RegExp(`:${engine.port}$`), 'started again on the same port');
  const said = engine.output.join('\n');
  assert.match(said, /the engine process ended \(SIGKILL\) in plugin "ctl"'s control half; it stays out until its files change; starting it again/);
  assert.match(said, /PLUGIN_HELD_OUT: plugin "ctl" was kept out of this start/);
  const refused = await ask(client, engine.port, '/ctl/ping', '/error');
  assert.deepEqual(refused.args.slice(0, 2), ['/ctl/ping', 'CTL_NOT_LOADED']);
  assert.match(String(refused.args[2]), /kept out of this start: the engine process ended \(SIGKILL\) while its control half ran; save a fix/);
  // It comes back with the values the engine had.
  assert.match(said, /carried over \d+ parameter values and the state of \d+ plugins/);
  assert.match(String((await ask(client, engine.port, '/engine/list', '/engine/list')).args[0]), /tone1 \[tone\] gate: freq=330 /);
  // The rest plays: the fixture tone sounds on its gate.
  client.send(HOST, engine.port, '/gate/tone1', [1]);
  await soundComesOut(client, engine.port);

  // Fixed (here: touched), it loads again, and the supervisor no longer holds it out.
  await writeFile(path.join(engine.root, 'plugins/ctl/control.ts'), `${CONTROL}\n// fixed\n`);
  await linesMatching(engine, /plugin ctl 1\.0\.0 (re)?loaded/, 2);
  assert.equal((await ask(client, engine.port, '/ctl/ping', '/ctl/pong')).address, '/ctl/pong');
});

test('a control thread frozen by a loop of awaits: started again; the same plugin last to run twice is kept out', async (t) => {
  const engine = await engineWithCtl();
  t.after(() => engine.stop());
  const client = await OscClient.open();
  t.after(() => client.close());

  client.send(HOST, engine.port, '/ctl/starve');
  await linesMatching(engine, /listening on/, 2);
  assert.match(engine.output.join('\n'), /control thread stopped answering for [\d.]+ s; the last control half to run was plugin "ctl"'s, with work still pending/);
  // Once is no proof: it is back.
  assert.equal((await ask(client, engine.port, '/ctl/ping', '/ctl/pong')).address, '/ctl/pong');

  client.send(HOST, engine.port, '/ctl/starve');
  await linesMatching(engine, /listening on/, 3);
  assert.match(engine.output.join('\n'), /as before the last failure: it stays out until its files change/);
  const refused = await ask(client, engine.port, '/ctl/ping', '/error');
  assert.deepEqual(refused.args.slice(0, 2), ['/ctl/ping', 'CTL_NOT_LOADED']);
});

test('an engine that keeps failing is not started again: the supervisor says so and exits 1', async (t) => {
  const engine = await engineWithCtl();
  t.after(() => engine.stop());
  const exited = new Promise<number | null>((resolve) => engine.proc.once('exit', (code) => resolve(code)));
  for (let n = 1; n <= 6; n++) {
    await linesMatching(engine, /listening on/, n);
    process.kill(engineUnder(engine.proc.pid as number), 'SIGKILL');
  }
  assert.equal(await exited, 1);
  assert.match(engine.output.join('\n'), /it failed 6 times within 60 s, so it is not started again/);
});

/**
 * The last-resort handlers of `chronus start` (cli/last-resort.ts): in a real engine process, an
 * exception thrown from a timer and promises rejected with nobody to handle them are logged and
 * counted in /engine/status, and the engine keeps rendering and answering.
 */
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OscClient } from '../cli/osc-client.ts';
import { Logger } from '../kernel/base/logger.ts';
import { installLastResort } from '../cli/last-resort.ts';
import { spawnChild } from './helpers/child.ts';
import { eventually, framesAdvancePast, status } from './helpers/containment.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';

const url = (rel: string) => pathToFileURL(path.join(PROJECT_ROOT, rel)).href;

const CHILD = `
import { loadConfig } from '${url('kernel/base/config.ts')}';
import { Engine } from '${url('kernel/engine/engine.ts')}';
import { installLastResort } from '${url('cli/last-resort.ts')}';
const [root] = process.argv.slice(2);
const config = loadConfig({ root, env: { CHRONUS_OSC_PORT: '0' } });
const engine = await Engine.start({ config, root, backend: 'null', watch: false, status: false });
installLastResort(engine);
process.stdout.write('port ' + engine.transport.port + '\\n');
setTimeout(() => { throw new Error('boom from a timer'); }, 0);
Promise.reject(new Error('nobody handles me'));
Promise.reject(undefined);
setInterval(() => {}, 1000);
`;

test('an uncaught exception and unhandled rejections are logged and counted; the engine plays on', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-last-resort-'));
  let kill: () => void = () => {};
  let exited: Promise<unknown> = Promise.resolve();
  // One hook, in order: the child is killed and gone before its folder goes.
  t.after(async () => {
    kill();
    await exited;
    await rm(dir, { recursive: true, force: true });
  });
  await mkdir(path.join(dir, 'config'));
  await writeTestConfig(dir);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(dir, 'plugins/tone'), { recursive: true });
  const script = path.join(dir, 'child.mts');
  await writeFile(script, CHILD);
  const client = await OscClient.open();
  t.after(() => client.close());

  let resolvePort: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  const child = spawnChild(process.execPath, ['--import', 'tsx', script, dir], (line, k) => {
    kill = k;
    const m = /^port (\d+)$/.exec(line);
    if (m) resolvePort(Number(m[1]));
  });
  exited = child;
  const p = await Promise.race([port, child.then((e) => Promise.reject(new Error(`child exited early: ${e.stderr}`)))]);
  const s = await eventually(() => status(client, p), (v) => v.uncaughtErrors === 3, 'three errors counted');
  assert.match(s.lastUncaught, /^(uncaught exception|unhandled rejection): /);
  await framesAdvancePast(client, p, s.framesRendered);
  kill();
  const exit = await child;
  assert.equal(exit.signal, 'SIGKILL', 'it was still running when killed');
  assert.match(exit.stderr, /uncaught exception, caught by the last-resort handler .*Error: boom from a timer/);
  assert.match(exit.stderr, /unhandled rejection, caught by the last-resort handler .*Error: nobody handles me/);
  assert.match(exit.stderr, /unhandled rejection, caught by the last-resort handler .*: undefined/);
});

test('a storm of errors is counted in full but logged at most ten lines a second; the handlers come off again', () => {
  const lines: string[] = [];
  const target = { uncaught: { count: 0, last: '' }, log: new Logger((l) => lines.push(l)) };
  // A stand-in for process (the test runner has its own handlers on the real one).
  const proc = new EventEmitter();
  let clock = 5000;
  const remove = installLastResort(target, proc as unknown as NodeJS.Process, () => clock);
  for (let i = 0; i < 100; i++) proc.emit('uncaughtException', new Error(`storm ${i}\u0000`), 'uncaughtException');
  clock += 1000;
  proc.emit('uncaughtException', new Error('a second later'), 'uncaughtException');
  proc.emit('unhandledRejection', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  remove();
  assert.equal(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection'), 0);
  assert.equal(target.uncaught.count, 102);
  assert.equal(lines.length, 11, 'ten lines in the first second, one in the next; a broken pipe is not logged');
  assert.match(lines[10], /a second later/);
  assert.equal(target.uncaught.last, 'unhandled rejection: Error: write EPIPE');
});

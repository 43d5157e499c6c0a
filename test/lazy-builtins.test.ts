/**
 * The CLI bundle loads Node built-ins that only some commands use when a command first touches them
 * (scripts/lazy-builtins.mjs): a render never loads the OSC socket's, the audio worker's or the
 * progress bar's terminal modules, and the commands that use them still work through the lazy imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';

const BIN = path.join(PROJECT_ROOT, 'bin/chronus.mjs');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('a render from dist/ loads none of the built-ins only other commands use; send still works through them', async (t) => {
  const build = await run([path.join(PROJECT_ROOT, 'scripts/build.mjs')]);
  assert.equal(build.code, 0, build.stderr);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chronus-lazy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Writes the built-ins the process loaded to a file as it exits.
  const loaded = path.join(dir, 'loaded.txt');
  const preload = path.join(dir, 'list-builtins.cjs');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));\n`);
  const score = path.join(dir, 'score.json');
  writeFileSync(score, JSON.stringify({ seconds: 0.2, events: [{ time: 0, address: '/gate/voice1', args: [1] }] }));

  // The first render after a build tries each plugin in a staging worker (kernel/plugins/trial-cache.ts):
  // the second is the one a user makes again and again.
  const first = await run([BIN, 'render', score, '-o', path.join(dir, 'first.wav')]);
  assert.equal(first.code, 0, first.stderr);
  // Output to a file, as from a script: a pipe or a terminal on stdout would load net for it.
  const log = path.join(dir, 'render.log');
  const fd = openSync(log, 'w');
  const render = spawn(process.execPath, ['--require', preload, BIN, 'render', score, '-o', path.join(dir, 'out.wav')], { stdio: ['ignore', fd, fd] });
  const code = await new Promise((resolve) => render.once('exit', resolve));
  closeSync(fd);
  assert.equal(code, 0, readFileSync(log, 'utf8'));
  assert.match(readFileSync(log, 'utf8'), /wrote .*out\.wav \(0\.200 s/);
  const modules = new Set(readFileSync(loaded, 'utf8').split('\n'));
  assert.ok(modules.has('NativeModule vm'), 'the list is of this process (the plugins\' realms)');
  for (const name of ['dgram', 'net', 'worker_threads', 'child_process', 'readline']) assert.ok(!modules.has(`NativeModule ${name}`), `${name} not loaded`);

  // A command that uses them: send (dgram, net) finds no engine and says so.
  const send = await run([BIN, 'send', '/engine/status', '--port', '9', '--timeout', '200']);
  assert.equal(send.code, 3, send.stderr);
  assert.match(send.stderr, /no reply from 127\.0\.0\.1:9 within 200 ms/);
});

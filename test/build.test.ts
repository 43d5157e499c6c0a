/**
 * The prebuilt engine (scripts/build.mjs → dist/): bin/chronus.mjs runs it only while it matches the
 * sources, and it renders exactly what the TypeScript run by tsx renders, with its code cache or without;
 * its bundles are ASCII.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sourcesHash } from '../scripts/sources-hash.mjs';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';
import { startEngineProcess } from './helpers/engine-process.ts';

const BIN = path.join(PROJECT_ROOT, 'bin/chronus.mjs');

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('the sources stamp changes when a kernel, CLI or SDK file changes, and only then', (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'chronus-stamp-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const dir of ['kernel/backends', 'cli', 'plugin-sdk/dsp', 'plugins/x']) mkdirSync(path.join(root, dir), { recursive: true });
  const files = ['package.json', 'kernel/a.ts', 'kernel/backends/b.ts', 'cli/c.ts', 'plugin-sdk/dsp/d.ts', 'plugins/x/index.ts'];
  for (const f of files) writeFileSync(path.join(root, f), `// ${f}\n`);
  const first = sourcesHash(root);
  assert.equal(sourcesHash(root), first, 'stable while nothing changes');

  writeFileSync(path.join(root, 'kernel/backends/b.ts'), '// edited, longer\n');
  const edited = sourcesHash(root);
  assert.notEqual(edited, first, 'an edit changes it');

  const when = new Date(Date.now() + 5000);
  utimesSync(path.join(root, 'plugin-sdk/dsp/d.ts'), when, when);
  const touched = sourcesHash(root);
  assert.notEqual(touched, edited, 'a save with the same size changes it (mtime)');

  writeFileSync(path.join(root, 'cli/new.ts'), '//\n');
  assert.notEqual(sourcesHash(root), touched, 'a new file changes it');

  const before = sourcesHash(root);
  writeFileSync(path.join(root, 'plugins/x/index.ts'), '// plugins are hot-reloaded from source, not prebuilt\n');
  assert.equal(sourcesHash(root), before, 'plugin folders are not part of the prebuilt engine');
});

test('the prebuilt dist/ runs when current and renders the same samples as the TypeScript under tsx', async (t) => {
  // What `npm install` does (prepare): rebuild dist/ from the sources as they are now.
  const build = await run(path.join(PROJECT_ROOT, 'scripts/build.mjs'), []);
  assert.equal(build.code, 0, build.stderr);
  // The comments esbuild keeps lose their non-ASCII characters: each bundle is read as a one-byte string (and renders the same, below).
  for (const name of ['chronus.cjs', 'audio-worker.mjs', 'staging-worker.mjs', 'supervisor.mjs', 'device-output.mjs']) {
    assert.ok(!/[^\x00-\x7f]/.test(readFileSync(path.join(PROJECT_ROOT, 'dist', name), 'latin1')), `dist/${name} is ASCII`);
  }
  assert.match((await run(BIN, ['version'])).stdout, /\(prebuilt dist\//);
  assert.match((await run(BIN, ['version'], { CHRONUS_DIST: '0' })).stdout, /\(TypeScript sources under tsx/);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'chronus-dist-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const score = path.join(dir, 'score.json');
  writeFileSync(
    score,
    JSON.stringify({
      seconds: 1,
      events: [
        { time: 0, address: '/mod/voice1/osc/type', args: [1] },
        { time: 0, address: '/mod/voice1/send/reverb', args: [0.5] },
        { time: 0, address: '/mod/voice1/send/delay', args: [0.5] },
        { time: 0.1, address: '/gate/voice1', args: [1] },
        { time: 0.6, address: '/gate/voice1', args: [0] },
      ],
    }),
  );
  const fromDist = path.join(dir, 'dist.wav');
  const fromTsx = path.join(dir, 'tsx.wav');
  const a = await run(BIN, ['render', score, '-o', fromDist]);
  assert.equal(a.code, 0, a.stderr);
  const b = await run(BIN, ['render', score, '-o', fromTsx], { CHRONUS_DIST: '0' });
  assert.equal(b.code, 0, b.stderr);
  const [x, y] = await Promise.all([readFile(fromDist), readFile(fromTsx)]);
  assert.ok(x.length > 48000 * 2 * 3, 'a whole second of stereo 24-bit audio');
  assert.ok(x.subarray(44).some((v) => v !== 0), 'not silence');
  assert.ok(x.equals(y), 'dist/ and tsx render identical files');

  // The CLI bundle's code cache (bin/code-cache.mjs): the first render after the build wrote it, the
  // next uses it, and a damaged one is rejected and written again; the samples never change.
  const cache = path.join(PROJECT_ROOT, 'dist/chronus.cjs.render.v8cache');
  assert.ok(existsSync(cache), 'the first render after the build wrote its code cache');
  const traced = { NODE_DEBUG: 'chronus:startup' };
  const again = await run(BIN, ['render', score, '-o', path.join(dir, 'again.wav')], traced);
  assert.match(again.stderr, /code cache chronus\.cjs\.render\.v8cache: used/);
  assert.ok((await readFile(path.join(dir, 'again.wav'))).equals(x), 'a render from the code cache renders the same');
  const garbage = Buffer.alloc(4096, 7);
  writeFileSync(cache, garbage);
  const damaged = await run(BIN, ['render', score, '-o', path.join(dir, 'damaged.wav')], traced);
  assert.equal(damaged.code, 0, damaged.stderr);
  assert.match(damaged.stderr, /code cache chronus\.cjs\.render\.v8cache: rejected/);
  assert.ok((await readFile(path.join(dir, 'damaged.wav'))).equals(x), 'a damaged code cache changes nothing');
  assert.ok(!readFileSync(cache).equals(garbage), 'and is written again');
});

test("a start's code cache is used by the next start (the engine's run-time V8 flags do not spoil it)", { timeout: 180_000 }, async (t) => {
  const build = await run(path.join(PROJECT_ROOT, 'scripts/build.mjs'), []);
  assert.equal(build.code, 0, build.stderr);
  const cache = path.join(PROJECT_ROOT, 'dist/chronus.cjs.start.v8cache');
  rmSync(cache, { force: true });
  // The engine itself, without the supervisor: what is tested is its exit and its next start, not a
  // supervisor that may end a slow stop on a busy machine with SIGKILL.
  const traced = { NODE_DEBUG: 'chronus:startup', CHRONUS_SUPERVISED: '1' };
  const first = await startEngineProcess({ env: traced });
  t.after(() => first.stop());
  assert.ok(first.output.some((l) => /code cache chronus\.cjs\.start\.v8cache: none/.test(l)), first.output.join('\n'));
  // Stopped cleanly (the cache is written as the engine exits), however long that takes on a busy machine:
  // the helper's stop() ends it with SIGKILL after 5 s.
  const exited = new Promise((resolve) => first.proc.once('exit', resolve));
  first.proc.kill('SIGTERM');
  await exited;
  assert.ok(existsSync(cache), `the first start wrote its code cache as it stopped (exit ${first.proc.exitCode} ${first.proc.signalCode}):\n${first.output.join('\n')}`);
  // Written after the engine had set --semi-space-growth-factor and --no-memory-reducer: V8 rejected it at every start.
  const second = await startEngineProcess({ env: traced });
  t.after(() => second.stop());
  assert.ok(second.output.some((l) => /code cache chronus\.cjs\.start\.v8cache: used/.test(l)), second.output.join('\n'));
});

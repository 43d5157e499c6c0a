/**
 * A recording that cannot start leaves nothing behind (issue "Containment …": a second
 * /engine/record/start on a full disk used to leave a 0-byte WAV, and the next start then took a
 * timestamped name beside it). The full disk is simulated as in test/recorder.test.ts: a child
 * process with RLIMIT_FSIZE (here 0) and SIGXFSZ ignored, so every write to a file fails with EFBIG.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnChild } from './helpers/child.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';

const url = (rel: string) => pathToFileURL(path.join(PROJECT_ROOT, rel)).href;

/** Child: an offline engine that tries to record twice, then renders a second; prints replies as JSON lines. */
const CHILD = `
import { loadConfig } from '${url('kernel/base/config.ts')}';
import { Engine } from '${url('kernel/engine/engine.ts')}';
import { Logger } from '${url('kernel/base/logger.ts')}';
const [root] = process.argv.slice(2);
const config = loadConfig({ root, env: {} });
config.plugins.recorder = { enabled: true, format: 'int16', tap: 'master' };
const engine = await Engine.start({ config, backend: 'offline', listen: false, status: false, log: Logger.silent() });
const print = (address, args) => process.stdout.write(JSON.stringify({ address, args }) + '\\n');
engine.onReply = (_r, address, args) => print(address, args);
const remote = { address: 'parent', port: 1 };
for (let i = 0; i < 2; i++) {
  engine.dispatch({ address: '/engine/record/start', args: ['take'], remote });
  await engine.settle();
}
const before = engine.audio.engine.frame;
for (let b = 0; b < 200; b++) engine.audio.render(240);
print('rendered', [engine.audio.engine.frame - before]);
await engine.stop();
`;

test('a start that fails on a full disk leaves no empty WAV, twice in a row, and the engine renders on', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-rec-fail-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, 'config'), { recursive: true });
  await writeTestConfig(root);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  await cp(path.join(PROJECT_ROOT, 'plugins/recorder'), path.join(root, 'plugins/recorder'), { recursive: true });
  const script = path.join(dir, 'child.mts');
  await writeFile(script, CHILD);

  const got: { address: string; args: unknown[] }[] = [];
  const cmd = `trap '' XFSZ; ulimit -f 0; exec "$0" --import tsx "$@"`;
  const exit = await spawnChild('bash', ['-c', cmd, process.execPath, script, root], (line) => {
    try {
      got.push(JSON.parse(line));
    } catch {
      // not a reply
    }
  });
  assert.equal(exit.code, 0, exit.stderr);
  const errors = got.filter((m) => m.address === '/error');
  assert.equal(errors.length, 2, JSON.stringify(got));
  const take = path.join(root, 'recordings', 'take.wav');
  for (const e of errors) {
    assert.deepEqual(e.args.slice(0, 2), ['/engine/record/start', 'RECORD_OPEN_FAILED']);
    assert.match(String(e.args[2]), /writing the header of .*take\.wav failed \(EFBIG[^)]*\); the empty file was removed/);
    assert.ok(String(e.args[2]).includes(take), 'the second start tried the same name: the first left nothing');
  }
  assert.equal(got.some((m) => m.address === '/engine/record/started'), false);
  const wavs = (await readdir(path.join(root, 'recordings'), { recursive: true })).filter((f) => String(f).endsWith('.wav'));
  assert.deepEqual(wavs, [], 'no file left behind');
  assert.deepEqual(got.find((m) => m.address === 'rendered')?.args, [48_000]);
});

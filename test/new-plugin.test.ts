/**
 * `chronus new-plugin`: a scaffold of every role loads and passes the conformance checks as it is;
 * bad names, roles and existing folders are refused with a message naming what was wrong, and
 * nothing is written outside the plugins folder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { moduleIdOf, NewPluginError, scaffoldPlugin } from '../cli/new-plugin.ts';
import { ROLES } from '../kernel/plugins/manifest.ts';
import { checkConformance } from './helpers/plugin-checks.ts';
import { PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';

const BIN = path.join(PROJECT_ROOT, 'bin/chronus.mjs');

async function tempPlugins(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-new-plugin-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return path.join(root, 'plugins');
}

describe('every role scaffolds a plugin that passes the conformance checks', () => {
  for (const role of ROLES) {
    test(role, async (t) => {
      const plugins = await tempPlugins(t);
      const name = `my-${role}`;
      const result = await scaffoldPlugin(plugins, name, role);
      assert.equal(result.module, `my_${role}1`);
      assert.deepEqual((await readdir(result.dir)).sort(), ['dsp.ts', 'index.ts', 'plugin.json']);
      const manifest = JSON.parse(await readFile(path.join(result.dir, 'plugin.json'), 'utf8'));
      assert.equal(manifest.role, role);
      await checkConformance(plugins, name);
    });
  }
});

test('refuses an invalid name, naming it and the rule', async (t) => {
  const plugins = await tempPlugins(t);
  for (const bad of ['My-Plugin', '1abc', '../escape', 'a/b', 'a.b', '-x', 'x'.repeat(41), '/tmp/abs']) {
    await assert.rejects(scaffoldPlugin(plugins, bad, 'effect'), (e: unknown) => {
      assert.ok(e instanceof NewPluginError);
      assert.match(e.message, /is not a valid plugin name/);
      assert.match(e.message, /lowercase letters, digits and "-"/);
      return true;
    }, bad);
  }
  await assert.rejects(scaffoldPlugin(plugins, undefined, 'effect'), /a plugin name is required/);
  assert.ok(!existsSync(plugins), 'nothing written');
  assert.ok(!existsSync(path.join(plugins, '..', 'escape')));
});

test('refuses a missing or unknown role, listing the roles', async (t) => {
  const plugins = await tempPlugins(t);
  await assert.rejects(scaffoldPlugin(plugins, 'ok', undefined), /--role is required.*\n.*source, effect, send, modulator, controller, sink/);
  await assert.rejects(scaffoldPlugin(plugins, 'ok', 'filter'), /"filter" is not a plugin role\n--role must be one of: source, effect/);
  assert.ok(!existsSync(plugins));
});

test('refuses an existing folder, and a clash with another plugin\'s id or module', async (t) => {
  const plugins = await tempPlugins(t);
  await scaffoldPlugin(plugins, 'twice', 'effect');
  const before = await readFile(path.join(plugins, 'twice/index.ts'), 'utf8');
  await assert.rejects(scaffoldPlugin(plugins, 'twice', 'source'), /plugins\/twice\/ already exists/);
  assert.equal(await readFile(path.join(plugins, 'twice/index.ts'), 'utf8'), before, 'left as it was');
  // A folder named otherwise whose manifest claims the id; a plugin providing the module id.
  await cp(path.join(plugins, 'twice'), path.join(plugins, 'renamed'), { recursive: true });
  await rm(path.join(plugins, 'twice'), { recursive: true });
  await assert.rejects(scaffoldPlugin(plugins, 'twice', 'effect'), /plugins\/renamed\/ already has the id "twice"/);
  await cp(path.join(PROJECT_ROOT, 'plugins/distortion'), path.join(plugins, 'distortion'), { recursive: true });
  assert.equal(moduleIdOf('dist'), 'dist1');
  await assert.rejects(scaffoldPlugin(plugins, 'dist', 'effect'), /plugins\/distortion\/ already provides the module "dist1"/);
  assert.ok(!existsSync(path.join(plugins, 'dist')));
});

test('the command: scaffolds under --root, exits non-zero with the reason when refused', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-new-plugin-cli-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, ...args, '--root', root], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ok = await run(['new-plugin', 'wobble', '--role', 'modulator']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /created .*wobble\/ .*module wobble1, role modulator/);
  assert.ok(existsSync(path.join(root, 'plugins/wobble/dsp.ts')));
  const again = await run(['new-plugin', 'wobble', '--role', 'modulator']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /plugins\/wobble\/ already exists/);
  const badRole = await run(['new-plugin', 'other', '--role', 'mixer']);
  assert.notEqual(badRole.code, 0);
  assert.match(badRole.stderr, /"mixer" is not a plugin role/);
  const badName = await run(['new-plugin', '../../x', '--role', 'effect']);
  assert.notEqual(badName.code, 0);
  assert.match(badName.stderr, /is not a valid plugin name/);
  assert.deepEqual(await readdir(path.join(root, 'plugins')), ['wobble']);
});

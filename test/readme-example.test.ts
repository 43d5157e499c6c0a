/**
 * The README is real: the plugin example loads, gets its routes and does what it says, and every
 * `sh` command block runs as written (oscsend and `npx chronus` against an engine on a free port, the
 * render example on its score; `npm install`/`start`/`test` are checked for presence).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OscClient } from '../cli/osc-client.ts';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from './helpers/offline-engine.ts';
import { makeRoot, startEngineProcess, type EngineProcess } from './helpers/engine-process.ts';
import { hasLiblo } from './helpers/liblo.ts';

function block(readme: string, after: string, lang: string): string {
  const at = readme.indexOf(after);
  assert.ok(at >= 0, `README mentions ${after}`);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  assert.ok(m, `a ${lang} block after ${after}`);
  return m[1];
}

test('the README tremolo plugin loads and modulates the main bus', async (t) => {
  const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-readme-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'tremolo'));
  await writeFile(path.join(dir, 'tremolo/plugin.json'), block(readme, '`plugins/tremolo/plugin.json`', 'json'));
  await writeFile(path.join(dir, 'tremolo/index.ts'), block(readme, '`plugins/tremolo/index.ts`', 'ts'));
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(dir, 'tone'), { recursive: true });
  const e = await OfflineEngine.start({ pluginsFrom: dir });
  t.after(() => e.close());
  assert.ok(e.engine.router.has('/mod/trem1/rate') && e.engine.router.has('/mod/trem1/depth'));
  await e.send('/mod/trem1/depth', [1]);
  await e.send('/mod/trem1/rate', [4]);
  await e.send('/gate/tone1', [1]);
  e.render(0.1);
  const { l } = e.render(1);
  // Peak per 10 ms window swings between near 0 and the tone's 0.5, four times a second.
  const peaks: number[] = [];
  for (let w = 0; w + 480 <= l.length; w += 480) peaks.push(l.subarray(w, w + 480).reduce((m, v) => Math.max(m, Math.abs(v)), 0));
  assert.ok(Math.max(...peaks) > 0.45 && Math.min(...peaks) < 0.05, `${Math.min(...peaks)}..${Math.max(...peaks)}`);
});

/** Every ```sh block of the README, in order, with the heading it sits under. */
function shBlocks(readme: string): { heading: string; lines: string[] }[] {
  const out: { heading: string; lines: string[] }[] = [];
  let heading = '';
  const re = /^(#+ .*)$|^```sh\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(readme); m; m = re.exec(readme)) {
    if (m[1]) heading = m[1];
    else out.push({ heading, lines: m[2].split('\n').filter((l) => l.trim() !== '') });
  }
  return out;
}

/** A command and the comment after it (the README's note of what it does). Quotes are kept for the shell. */
function splitComment(line: string): { command: string; comment: string } {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return { command: line.slice(0, i).trim(), comment: line.slice(i + 1).trim() };
  }
  return { command: line.trim(), comment: '' };
}

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('every command block of the README runs as written, against an engine on a free port', { skip: !hasLiblo() && 'liblo-tools not installed' }, async (t) => {
  const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const pkg = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  const work = await mkdtemp(path.join(os.tmpdir(), 'chronus-readme-'));
  // The engine's project folder, with the recorder turned on as the README's Recording section says.
  const root = await makeRoot();
  await writeFile(path.join(root, 'config/local.json'), block(readme, '## Recording', 'json'));
  let engine: EngineProcess | undefined;
  t.after(async () => {
    await engine?.stop();
    await rm(work, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });
  engine = await startEngineProcess({ root });
  // `npx chronus …` as a user runs it from the package; here from any folder (a shim on PATH).
  const bin = path.join(work, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'npx'), `#!/bin/sh\nif [ "$1" = chronus ]; then shift; exec "${process.execPath}" "${path.join(PROJECT_ROOT, pkg.bin.chronus)}" "$@"; fi\necho "README test: only npx chronus is shimmed" >&2; exit 2\n`, { mode: 0o755 });
  // The render example's score.
  await writeFile(path.join(work, 'score.json'), block(readme, 'With this `score.json`', 'json'));
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, CHRONUS_OSC_PORT: String(engine.port) };
  const client = await OscClient.open();
  t.after(() => client.close());
  const errorsNow = async () => Number(((await client.request('127.0.0.1', engine!.port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 5000 })).json as { errors: number }).errors);
  const before = await errorsNow();
  let expectedErrors = 0;
  let ran = 0;

  const blocks = shBlocks(readme);
  assert.ok(blocks.length >= 5, `${blocks.length} sh blocks`);
  for (const { heading, lines } of blocks) {
    for (const line of lines) {
      const { command, comment } = splitComment(line);
      if (command === '') continue;
      const where = `${heading}: ${command}`;
      // npm install / start / test are this test's own setting: checked for presence, not run.
      const npm = /^npm (install|start|test)$/.exec(command);
      if (npm) {
        if (npm[1] !== 'install') assert.ok(pkg.scripts[npm[1]], `${where}: package.json has a "${npm[1]}" script`);
        continue;
      }
      assert.match(command, /^(oscsend localhost 5005 |npx chronus )/, `${where}: a command this test knows how to run`);
      // The engine listens on a free port, not 5005: oscsend names its port; chronus send reads CHRONUS_OSC_PORT.
      const r = await sh(command.replace(/^oscsend localhost 5005 /, `oscsend localhost ${engine.port} `), work, env);
      ran++;
      if (/→ \/error/.test(comment)) {
        expectedErrors++;
        assert.equal(r.code, 1, `${where}: exits 1 on /error (${r.stderr})`);
        assert.match(r.stdout, new RegExp(`^${comment.replace(/^→ /, '').replace(/ …$/, '').replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')}`), where);
      } else {
        assert.equal(r.code, 0, `${where}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      }
      if (/^npx chronus send \/engine\/(status|record\/status)/.test(command)) assert.match(r.stdout, /^\/engine\/(record\/)?status \{/, where);
      if (/^npx chronus send \/engine\/record\/stop/.test(command)) assert.match(r.stdout, /^\/engine\/record\/stopped \S+\.wav \d+$/m, where);
      if (/^npx chronus render/.test(command)) assert.match(r.stdout, /wrote \S+\.wav/, where);
    }
  }
  assert.ok(ran >= 15, `${ran} commands ran`);
  assert.equal((await errorsNow()) - before, expectedErrors, 'only the commands the README says fail got an /error');
  // What the commands made: the two renders, the three recordings.
  assert.ok((await stat(path.join(work, 'out.wav'))).size > 44);
  assert.ok((await stat(path.join(work, 'out-float.wav'))).size > 44);
  const recordings = (await readdir(path.join(root, 'recordings'))).filter((f) => f.endsWith('.wav')).sort();
  assert.equal(recordings.length, 3, recordings.join(' '));
  assert.ok(recordings.includes('mytake.wav') && recordings.some((f) => /^mytake_\d{8}_\d{6}\.wav$/.test(f)) && recordings.some((f) => f.startsWith('session_')), recordings.join(' '));
});

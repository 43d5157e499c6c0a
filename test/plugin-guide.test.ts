/**
 * docs/plugin-guide.md is real: every plugin in it (fenced blocks tagged `plugin=<folder>
 * file=<name>`) is written into a temp plugins folder and passes the conformance checks; its test
 * example (tagged `test`) runs against them and passes; every untagged code fragment is a copy of
 * lines from a tagged block; and every `ts` block is tagged, so none goes untried.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, after, describe, test } from 'node:test';
import wavefilePkg from 'wavefile';
import { checkConformance } from './helpers/plugin-checks.ts';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';

interface Block {
  lang: string;
  info: Record<string, string>;
  tags: string[];
  code: string;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  for (const m of markdown.matchAll(/^```([\w-]*)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const words = m[2].trim().split(/\s+/).filter(Boolean);
    const info = Object.fromEntries(words.filter((w) => w.includes('=')).map((w) => w.split('=') as [string, string]));
    out.push({ lang: m[1], info, tags: words.filter((w) => !w.includes('=')), code: m[3] });
  }
  return out;
}

const guide = await readFile(path.join(PROJECT_ROOT, 'docs/plugin-guide.md'), 'utf8');
const all = blocks(guide);
const pluginBlocks = all.filter((b) => b.info.plugin);
const folders = [...new Set(pluginBlocks.map((b) => b.info.plugin))];
let dir = '';

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-guide-'));
  for (const b of pluginBlocks) {
    assert.match(b.info.plugin, /^[a-z][a-z0-9-]*$/);
    assert.match(b.info.file, /^[a-z][a-z0-9-]*\.(ts|json)$/);
    await mkdir(path.join(dir, 'plugins', b.info.plugin), { recursive: true });
    await writeFile(path.join(dir, 'plugins', b.info.plugin, b.info.file), b.code);
  }
});
after(() => rm(dir, { recursive: true, force: true }));

test('the guide has plugin examples, and every ts block is a tagged plugin file or the test example', () => {
  assert.ok(folders.length >= 2, `plugins in the guide: ${folders.join(', ')}`);
  for (const b of all.filter((x) => x.lang === 'ts')) assert.ok(b.info.plugin || b.tags.includes('test'), `an untagged ts block:\n${b.code.slice(0, 200)}`);
  for (const f of folders) {
    const files = pluginBlocks.filter((b) => b.info.plugin === f).map((b) => b.info.file);
    assert.ok(files.includes('plugin.json') && files.includes('index.ts'), `${f}: plugin.json and index.ts`);
  }
});

test('every untagged code fragment is lines of a tagged example (so it is executed too)', () => {
  const tagged = pluginBlocks.map((b) => b.code).join('\n');
  for (const b of all.filter((x) => x.lang === '')) {
    for (const line of b.code.split('\n').filter((l) => l.trim() !== '')) {
      const code = line.replace(/\/\/.*$/, '').trim();
      assert.ok(tagged.includes(code), `"${code}" is in no example`);
    }
  }
});

describe('every plugin of the guide passes the conformance checks', () => {
  for (const folder of folders) test(folder, () => checkConformance(path.join(dir, 'plugins'), folder));
});

test("the guide's plugins do what it says: blip2 plays on blip1's gates, at its own default, and /blip/phases replies", async () => {
  const { OfflineEngine } = await import('./helpers/offline-engine.ts');
  const e = await OfflineEngine.start({ pluginsFrom: path.join(dir, 'plugins'), only: ['blip'] });
  try {
    assert.ok(!e.engine.router.has('/gate/blip2'), 'a follower has no gate route of its own');
    const blip2 = e.engine.registry.param('blip2', 'freq');
    assert.equal(blip2 && e.engine.registry.values[blip2.index], 660);
    await e.send('/gate/blip1', [1]);
    const { l } = e.render(0.1);
    assert.ok(l.some((v) => Math.abs(v) > 0.1), 'it sounds');
    await e.send('/blip/phases', []);
    const reply = e.lastReply('/blip/phases');
    assert.ok(reply, 'a reply');
    const phases = JSON.parse(String(reply.args[0])) as number[];
    assert.equal(phases.length, 2);
    assert.ok(phases.every((p) => p > 0 && p < 1), 'both oscillators ran');
  } finally {
    await e.close();
  }
});

test("the guide's send buses: hum1 gets send/slap from slap's manifest, and at send/slap 1 slap's echo comes 80 ms after the tone", async () => {
  const { OfflineEngine } = await import('./helpers/offline-engine.ts');
  const play = async (only: string[], send: number) => {
    const e = await OfflineEngine.start({ pluginsFrom: path.join(dir, 'plugins'), only, configure: (c) => (c.audio.sampleRate = 48000) });
    try {
      if (only.includes('slap')) {
        assert.ok(e.engine.router.has('/mod/hum1/send/slap'), 'hum1 has send/slap');
        await e.send('/mod/hum1/send/slap', [send], 0);
        await e.send('/mod/slap1/mix', [1], 0);
      } else assert.ok(!e.engine.router.has('/mod/hum1/send/slap'), 'no slap, no send/slap');
      await e.send('/gate/hum1', [1], 0);
      return e.render(0.2).l;
    } finally {
      await e.close();
    }
  };
  const dry = await play(['hum'], 0);
  assert.deepEqual(await play(['hum', 'slap'], 0), dry, 'at send/slap 0 only the tone');
  const wet = await play(['hum', 'slap'], 1);
  const echo = wet.map((x, i) => x - dry[i]);
  const at = 0.08 * 48000;
  assert.ok(echo.subarray(0, at + 1).every((x) => x === 0), 'nothing before 80 ms');
  assert.ok(echo.subarray(at + 1).some((x) => Math.abs(x) > 0.05), 'then the echo');
});

test("the guide's control half does what it says: /clip/save writes the last second heard, in its own folder, never over a file", async () => {
  const { OfflineEngine, FIXTURE_PLUGINS } = await import('./helpers/offline-engine.ts');
  const e = await OfflineEngine.start({ pluginsFrom: [path.join(dir, 'plugins'), FIXTURE_PLUGINS], only: ['clip', 'tone'] });
  try {
    await e.send('/gate/tone1', [1]);
    const heard: Float32Array[] = [];
    // 1.5 s in pieces, each drained by the control half's timer before the ring fills.
    for (let k = 0; k < 15; k++) {
      heard.push(e.render(0.1).l);
      await new Promise((r) => setTimeout(r, 40));
    }
    await e.send('/clip/save', ['take']);
    const saved = e.lastReply('/clip/saved');
    assert.ok(saved, JSON.stringify(e.replies.slice(-3)));
    assert.equal(saved.args[0], path.join(e.root, 'data', 'clips', 'take.wav'));
    assert.equal(saved.args[1], 48_000);
    const wav = new wavefilePkg.WaveFile(await readFile(String(saved.args[0])));
    const left = (wav.getSamples(false, Float64Array) as unknown as Float64Array[])[0];
    const all = new Float32Array(heard.reduce((n, h) => n + h.length, 0));
    heard.reduce((at, h) => (all.set(h, at), at + h.length), 0);
    const want = all.subarray(all.length - 48_000);
    for (let i = 0; i < 48_000; i += 997) assert.equal(left[i], Math.round(Math.max(-1, Math.min(1, want[i])) * 32767), `frame ${i}`);
    await e.send('/clip/save', ['take']);
    assert.deepEqual(e.lastReply('/error')?.args.slice(0, 2), ['/clip/save', 'WAV_OPEN_FAILED']);
    await e.send('/clip/save', ['../escape']);
    assert.deepEqual(e.lastReply('/error')?.args.slice(0, 2), ['/clip/save', 'OSC_BAD_ARGS']);
  } finally {
    await e.close();
  }
});

test("the guide's test example passes against its plugins", async () => {
  const example = all.find((b) => b.lang === 'ts' && b.tags.includes('test'));
  assert.ok(example, 'a test example');
  const helpers = path.join(PROJECT_ROOT, 'test/helpers/');
  const file = path.join(dir, 'test/plugins/example.test.ts');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, example.code.replaceAll("'../helpers/", `'${helpers}`));
  // A test run of its own (this runner's context variable would make it skip the file).
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const result = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--test', file], { cwd: PROJECT_ROOT, env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
  assert.equal(result.code, 0, result.out);
  assert.match(result.out, /# pass 1/);
});

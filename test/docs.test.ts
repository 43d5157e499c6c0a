/**
 * `chronus docs`: the committed docs/modules.md is what the generator makes from the plugins now (a
 * parameter changed without `npm run docs` fails here), and the generator covers every module and
 * parameter of the schema. Generated in a temp copy of the project (config and plugins), so the
 * engine's data folders are made there and removed.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, after, test } from 'node:test';
import { collectDocs, renderModulesMarkdown, type DocsInput } from '../cli/docs.ts';
import { PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';

let root = '';
let input: DocsInput;
let generated = '';

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'chronus-docs-'));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await cp(path.join(PROJECT_ROOT, 'plugins'), path.join(root, 'plugins'), { recursive: true });
  input = await collectDocs(root);
  generated = renderModulesMarkdown(input);
});
after(() => rm(root, { recursive: true, force: true }));

test('the committed docs/modules.md is up to date (run `npm run docs` after changing a parameter table)', async () => {
  const committed = await readFile(path.join(PROJECT_ROOT, 'docs/modules.md'), 'utf8');
  assert.equal(committed, generated, 'docs/modules.md differs from `chronus docs`: run `npm run docs` and commit it');
});

test('it covers every plugin, module and parameter of the schema, with its range and default', () => {
  const modules = Object.entries(input.schema.modules);
  assert.ok(modules.length > 0);
  for (const p of input.plugins) assert.match(generated, new RegExp(`^## ${p.id}$`, 'm'), `plugin ${p.id}`);
  for (const [key, group] of modules) {
    assert.ok(input.plugins.some((p) => p.id === group.plugin), `${key}: its plugin is documented`);
    const first = group.instances[0];
    const last = group.instances[group.instances.length - 1];
    const at = generated.indexOf(`### \`${first}\``);
    assert.ok(at >= 0, `module ${first} has a section`);
    if (group.instances.length > 2) assert.ok(generated.includes(`\`${first}\` … \`${last}\``), `${key}: ${first} … ${last}`);
    else for (const m of group.instances) assert.ok(generated.includes(`\`${m}\``), `module ${m}`);
    const section = generated.slice(at, generated.indexOf('\n### ', at + 1) >>> 0);
    for (const [name, spec] of Object.entries(group.params)) {
      const row = section.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      assert.ok(row, `${key}/${name} has a row`);
      assert.ok(row.includes(`| ${spec.min} – ${spec.max} |`), `${key}/${name}: range in ${row}`);
      assert.ok(row.includes(`| ${spec.default}`), `${key}/${name}: default in ${row}`);
      assert.ok(row.includes(`| ${spec.smoothing_ms} |`), `${key}/${name}: smoothing in ${row}`);
      if (spec.unit) assert.ok(row.includes(`| ${spec.unit} |`), `${key}/${name}: unit`);
      for (const v of spec.values ?? []) assert.ok(row.includes(v), `${key}/${name}: enum value ${v}`);
    }
  }
  for (const p of input.plugins) for (const r of p.routes) assert.ok(generated.includes(`| \`${r.address}\` |`), `route ${r.address}`);
  // Every plugin folder is there, including those off by default.
  assert.ok(input.plugins.some((p) => !p.enabledByDefault) === generated.includes('off by default'));
});

test('the output is deterministic: the same input renders the same text, with no dates', () => {
  const shuffled: DocsInput = { ...input, plugins: [...input.plugins].reverse() };
  assert.equal(renderModulesMarkdown(shuffled), generated);
  assert.doesNotMatch(generated, /\b20\d\d-\d\d-\d\d\b/);
});

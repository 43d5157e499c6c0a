import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import { ChronusError, ErrorCode, formatZodIssues } from '../kernel/base/errors.ts';
import { expandModules, parseManifest, readManifest, type Manifest } from '../kernel/plugins/manifest.ts';

const FILE = 'plugins/reverb/plugin.json';
const API = 1;

const valid = {
  id: 'reverb',
  name: 'Reverb',
  version: '1.2.3',
  apiVersion: 1,
  role: 'send',
  entry: 'index.ts',
  description: 'Freeverb-style stereo reverb',
  modules: ['reverb1'],
  bus: 'reverb',
};

const voices = {
  id: 'voices',
  name: 'Voices',
  version: '0.1.0',
  apiVersion: 1,
  role: 'source',
  entry: 'src/index.js',
  modules: { pattern: 'voice{n}', count: 'config:numVoices' },
  aliases: { sine1: 'voice1', sine2: 'voice2' },
};

function parseError(json: unknown, apiVersion = API): ChronusError {
  try {
    parseManifest(json, FILE, apiVersion);
  } catch (error) {
    assert.ok(error instanceof ChronusError, `expected a ChronusError, got ${String(error)}`);
    return error;
  }
  assert.fail('parseManifest did not throw');
}

describe('manifest: valid', () => {
  test('a full manifest parses, with defaults applied', () => {
    const m = parseManifest(valid, FILE, API);
    assert.equal(m.id, 'reverb');
    assert.equal(m.role, 'send');
    assert.equal(m.enabled, true);
    assert.equal(m.order, 0);
    assert.equal(m.bus, 'reverb');
    assert.deepEqual(m.modules, ['reverb1']);
  });

  test('minimal fields: description defaults to "", an effect bus defaults to "main"', () => {
    const m = parseManifest(
      { id: 'distortion', name: 'Distortion', version: '1.0.0', apiVersion: 1, role: 'effect', entry: 'index.ts', modules: ['dist1'] },
      FILE,
      API,
    );
    assert.equal(m.description, '');
    assert.equal(m.bus, 'main');
  });

  test('explicit enabled, order, master bus and a nested entry', () => {
    const m = parseManifest(
      { ...valid, role: 'effect', bus: 'master', enabled: false, order: -2.5, entry: './dsp/main.ts' },
      FILE,
      API,
    );
    assert.equal(m.enabled, false);
    assert.equal(m.order, -2.5);
    assert.equal(m.bus, 'master');
  });

  test('a module pattern with aliases', () => {
    const m = parseManifest(voices, FILE, API);
    assert.deepEqual(m.modules, { pattern: 'voice{n}', count: 'config:numVoices' });
    assert.deepEqual(m.aliases, { sine1: 'voice1', sine2: 'voice2' });
  });

  test('address aliases: an old address (or every address under a prefix) to one of the plugin\'s own', () => {
    const aliases = { '/mod/room1/': '/mod/reverb1/', '/mod/wet': '/mod/reverb1/mix' };
    assert.deepEqual(parseManifest({ ...valid, aliases }, FILE, API).aliases, aliases);
  });

  test('every role is accepted', () => {
    for (const role of ['source', 'modulator', 'controller', 'sink']) {
      assert.equal(parseManifest({ ...valid, role, bus: undefined }, FILE, API).role, role);
    }
  });
});

describe('manifest: expandModules', () => {
  test('a list comes back as given (a copy)', () => {
    const m = parseManifest({ ...valid, modules: ['lfo1', 'lfo2'] }, FILE, API);
    const ids = expandModules(m, { numVoices: 8 });
    assert.deepEqual(ids, ['lfo1', 'lfo2']);
    ids.push('x');
    assert.deepEqual(m.modules, ['lfo1', 'lfo2']);
  });

  test('"config:numVoices" follows the config', () => {
    const m = parseManifest(voices, FILE, API);
    assert.deepEqual(expandModules(m, { numVoices: 4 }), ['voice1', 'voice2', 'voice3', 'voice4']);
    assert.equal(expandModules(m, { numVoices: 16 }).length, 16);
  });

  test('a fixed count, and {n} in the middle of the name', () => {
    const m = parseManifest({ ...voices, modules: { pattern: 'bank{n}_osc', count: 3 }, aliases: undefined }, FILE, API);
    assert.deepEqual(expandModules(m, { numVoices: 8 }), ['bank1_osc', 'bank2_osc', 'bank3_osc']);
  });
});

describe('manifest: every bad field is reported with file, field and found value', () => {
  const cases: [label: string, patch: Record<string, unknown>, field: string, found: string, message: RegExp][] = [
    ['id with capitals', { id: 'Reverb' }, 'id', '"Reverb"', /plugin id/],
    ['id starting with a digit', { id: '1verb' }, 'id', '"1verb"', /plugin id/],
    ['id not a string', { id: 7 }, 'id', '7', /expected a string/],
    ['empty name', { name: '' }, 'name', '""', /must have >= 1 characters/],
    ['version x.y', { version: '1.0' }, 'version', '"1.0"', /x\.y\.z/],
    ['version as number', { version: 1 }, 'version', '1', /expected a string/],
    ['apiVersion not an integer', { apiVersion: 1.5 }, 'apiVersion', '1.5', /integer/],
    ['apiVersion a string', { apiVersion: '1' }, 'apiVersion', '"1"', /expected a number/],
    ['role misspelt', { role: 'efect' }, 'role', '"efect"', /must be one of source, effect, send, modulator, controller, sink/],
    ['entry not .ts/.js', { entry: 'index.py' }, 'entry', '"index.py"', /\.ts or \.js/],
    ['entry with ..', { entry: '../shared/index.ts' }, 'entry', '"../shared/index.ts"', /inside the plugin folder/],
    ['entry with .. in the middle', { entry: 'src/../../x.ts' }, 'entry', '"src/../../x.ts"', /inside the plugin folder/],
    ['entry absolute', { entry: '/opt/x/index.ts' }, 'entry', '"/opt/x/index.ts"', /relative to the plugin folder/],
    ['entry absolute (Windows)', { entry: 'C:\\x\\index.ts' }, 'entry', '"C:\\\\x\\\\index.ts"', /relative/],
    ['entry with backslash ..', { entry: '..\\index.ts' }, 'entry', '"..\\\\index.ts"', /inside the plugin folder/],
    ['enabled not boolean', { enabled: 'yes' }, 'enabled', '"yes"', /expected a boolean/],
    ['description not a string', { description: 3 }, 'description', '3', /expected a string/],
    ['modules a string', { modules: 'reverb1' }, 'modules', '"reverb1"', /must be an array or an object/],
    ['modules empty', { modules: [] }, 'modules', '[]', /provides at least one module/],
    ['module id with a dash', { modules: ['rev-1'] }, 'modules[0]', '"rev-1"', /module id/],
    ['module listed twice', { modules: ['a1', 'a1'] }, 'modules[1]', '"a1"', /listed twice/],
    ['pattern without {n}', { modules: { pattern: 'voice', count: 2 } }, 'modules.pattern', '"voice"', /\{n\}/],
    ['count zero', { modules: { pattern: 'v{n}', count: 0 } }, 'modules.count', '0', /must be >= 1/],
    ['count a string', { modules: { pattern: 'v{n}', count: 'eight' } }, 'modules.count', '"eight"', /a number or "config:numVoices"/],
    ['pattern unknown key', { modules: { pattern: 'v{n}', count: 2, start: 0 } }, 'modules.start', '0', /unknown key/],
    ['order a string', { order: 'first' }, 'order', '"first"', /expected a number/],
    ['send without a bus', { bus: undefined }, 'bus', 'missing', /needs the name of its bus/],
    ['bus not a name', { bus: 'Reverb Bus' }, 'bus', '"Reverb Bus"', /bus name/],
    ['effect on a send bus', { role: 'effect', bus: 'reverb' }, 'bus', '"reverb"', /main, master/],
    ['bus on a source', { role: 'source', bus: 'main' }, 'bus', '"main"', /only effect and send/],
    ['alias to an unknown module', { aliases: { old: 'nope' } }, 'aliases.old', '"nope"', /"nope" is not a module/],
    ['alias shadowing a module', { aliases: { reverb1: 'reverb1' } }, 'aliases.reverb1', '"reverb1"', /already a module/],
    ['alias key not a module id', { aliases: { 'Old-Name': 'reverb1' } }, 'aliases.Old-Name', '"Old-Name"', /invalid key/],
    ['address alias to another plugin\'s module', { aliases: { '/gate/1': '/gate/voice1' } }, 'aliases./gate/1', '"/gate/voice1"', /not an address of a module of this plugin/],
    ['address alias from a prefix to one address', { aliases: { '/mod/room1/': '/mod/reverb1/mix' } }, 'aliases./mod/room1/', '"/mod/reverb1/mix"', /must both end in "\/"/],
    ['unknown key', { colour: 'blue' }, 'colour', '"blue"', /unknown key/],
  ];
  for (const [label, patch, field, found, message] of cases) {
    test(label, () => {
      const error = parseError({ ...valid, ...patch });
      assert.equal(error.code, ErrorCode.PLUGIN_MANIFEST_INVALID);
      const line = error.details.find((l) => l.startsWith(`${FILE}: ${field}: `));
      assert.ok(line, `no line for ${field} in\n${error.message}`);
      assert.match(line, message);
      assert.ok(line.endsWith(found === 'missing' ? '(missing)' : `(found ${found})`), line);
      assert.ok(error.message.startsWith(`PLUGIN_MANIFEST_INVALID: ${FILE}`), error.message);
    });
  }

  test('a missing required field says so', () => {
    const { name: _name, ...rest } = valid;
    const error = parseError(rest);
    assert.deepEqual(error.details, [`${FILE}: name: is required: expected a string (missing)`]);
  });

  test('every problem is listed in one throw', () => {
    const error = parseError({ ...valid, id: 'X', role: 'efect', entry: '../a.ts', version: 'v1', extra: 1 });
    assert.equal(error.details.length, 5, error.message);
    for (const field of ['id', 'role', 'entry', 'version', 'extra']) {
      assert.ok(error.details.some((l) => l.startsWith(`${FILE}: ${field}: `)), `${field} missing`);
    }
  });

  test('not an object at all', () => {
    assert.deepEqual(parseError(null).details, [`${FILE}: expected an object (found null)`]);
    assert.deepEqual(parseError(['a']).details, [`${FILE}: expected an object (found ["a"])`]);
  });

  test('the example from the style guide', () => {
    const error = parseError({ ...valid, role: 'efect' });
    assert.ok(
      error.message.includes(
        'plugins/reverb/plugin.json: role: must be one of source, effect, send, modulator, controller, sink (found "efect")',
      ),
      error.message,
    );
  });
});

describe('manifest: API version', () => {
  test('a plugin for a newer API is PLUGIN_API_MISMATCH, says expected and found, and how to fix', () => {
    const error = parseError({ ...valid, apiVersion: 2 });
    assert.equal(error.code, ErrorCode.PLUGIN_API_MISMATCH);
    assert.deepEqual(error.details, [`${FILE}: apiVersion: expected 1 (found 2)`]);
    assert.match(error.message, /newer Chronus/);
  });

  test('a plugin for an older API is told to update', () => {
    const error = parseError({ ...valid, apiVersion: 1 }, 3);
    assert.equal(error.code, ErrorCode.PLUGIN_API_MISMATCH);
    assert.deepEqual(error.details, [`${FILE}: apiVersion: expected 3 (found 1)`]);
    assert.match(error.message, /Update the plugin to API 3/);
  });

  test('the API check comes before the field checks (a future manifest may have new keys)', () => {
    assert.equal(parseError({ ...valid, apiVersion: 2, futureKey: true }).code, ErrorCode.PLUGIN_API_MISMATCH);
  });
});

describe('manifest: readManifest', () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'chronus-manifest-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const plugin = (folder: string, manifest: unknown, files: string[] = ['index.ts']) => {
    const dir = path.join(base, 'plugins', folder);
    mkdirSync(dir, { recursive: true });
    if (manifest !== undefined) {
      writeFileSync(path.join(dir, 'plugin.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
    }
    for (const f of files) writeFileSync(path.join(dir, f), 'export default {};\n');
    return dir;
  };
  const rejects = async (promise: Promise<Manifest>, code: string, pattern: RegExp) => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ChronusError);
      assert.equal(error.code, code);
      assert.match(error.message, pattern);
      return true;
    });
  };

  test('reads and validates plugin.json', async () => {
    const m: Manifest = await readManifest(plugin('reverb', valid), API);
    assert.equal(m.id, 'reverb');
  });

  test('bad JSON names the file', async () => {
    await rejects(readManifest(plugin('broken', '{ "id": '), API), ErrorCode.PLUGIN_MANIFEST_INVALID, /plugins\/broken\/plugin\.json: not valid JSON/);
  });

  test('a missing plugin.json names the file', async () => {
    await rejects(readManifest(plugin('empty', undefined), API), ErrorCode.PLUGIN_MANIFEST_INVALID, /plugins\/empty\/plugin\.json: file not found/);
  });

  test('invalid fields are reported with the folder in the file name', async () => {
    await rejects(readManifest(plugin('typo', { ...valid, role: 'efect' }), API), ErrorCode.PLUGIN_MANIFEST_INVALID, /plugins\/typo\/plugin\.json: role: .*\(found "efect"\)/);
  });

  test('an entry file that does not exist', async () => {
    await rejects(readManifest(plugin('noentry', { ...valid, entry: 'main.ts' }), API), ErrorCode.PLUGIN_MANIFEST_INVALID, /entry: no file at .*main\.ts/);
  });

  test('a custom label', async () => {
    await rejects(readManifest(plugin('labelled', '['), API, 'my/plugin.json'), ErrorCode.PLUGIN_MANIFEST_INVALID, /^PLUGIN_MANIFEST_INVALID: my\/plugin\.json/);
  });

  test('an API mismatch from disk', async () => {
    await rejects(readManifest(plugin('future', { ...valid, apiVersion: 9 }), API), ErrorCode.PLUGIN_API_MISMATCH, /expected 1 \(found 9\)/);
  });
});

describe('formatZodIssues (the central zod formatter)', () => {
  const schema = z.strictObject({ a: z.strictObject({ n: z.number().max(3) }) });

  test('with the input, each line ends with the value found there', () => {
    const input = { a: { n: 5, x: 'long'.repeat(40) } };
    const result = schema.safeParse(input);
    assert.ok(!result.success);
    const lines = formatZodIssues(result.error, 'src.json', input);
    assert.equal(lines[0], 'src.json: a.n: must be <= 3 (found 5)');
    assert.match(lines[1]!, /^src\.json: a\.x: unknown key: .*\(found "longlong.*…\)$/);
    assert.ok(lines[1]!.length < 160);
  });

  test('without the input the found part is left out; with reportInput zod supplies it', () => {
    const input = { a: { n: 5 } };
    const plain = schema.safeParse(input);
    assert.ok(!plain.success);
    assert.deepEqual(formatZodIssues(plain.error, 'src'), ['src: a.n: must be <= 3']);
    const reported = schema.safeParse(input, { reportInput: true });
    assert.ok(!reported.success);
    assert.deepEqual(formatZodIssues(reported.error, 'src'), ['src: a.n: must be <= 3 (found 5)']);
  });

  test('the source can be chosen per path', () => {
    const result = schema.safeParse({ a: { n: 9 } });
    assert.ok(!result.success);
    assert.deepEqual(formatZodIssues(result.error, (p) => `layer-${p.length}`, { a: { n: 9 } }), ['layer-2: a.n: must be <= 3 (found 9)']);
  });
});

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChronusError, ErrorCode } from '../kernel/base/errors.ts';
import { ConfigSchema, loadConfig } from '../kernel/base/config.ts';

const repoDefault = fileURLToPath(new URL('../config/default.json', import.meta.url));
const defaults = JSON.parse(readFileSync(repoDefault, 'utf8'));
const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A temp project root holding the real config/default.json and, if given, a config/local.json. */
function project(local?: unknown): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'chronus-config-'));
  roots.push(root);
  mkdirSync(path.join(root, 'config'));
  copyFileSync(repoDefault, path.join(root, 'config', 'default.json'));
  if (local !== undefined) {
    const text = typeof local === 'string' ? local : JSON.stringify(local);
    writeFileSync(path.join(root, 'config', 'local.json'), text);
  }
  return root;
}

function loadError(options: Parameters<typeof loadConfig>[0]): ChronusError {
  try {
    loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof ChronusError, `expected a ChronusError, got ${String(error)}`);
    return error;
  }
  assert.fail('loadConfig did not throw');
}

describe('config: defaults', () => {
  test('config/default.json is complete and valid on its own', () => {
    assert.equal(ConfigSchema.safeParse(defaults).success, true);
  });

  test('with no local file and no env vars the defaults come through, paths absolute under the root', () => {
    const root = project();
    const c = loadConfig({ root, env: {} });
    assert.deepEqual(c.audio, { backend: 'auto', sampleRate: 48000, bufferSize: 256, device: null, leadBlocks: 3, cpuDmaLatencyUs: 0, dedicatedCpu: true, watchdogMs: 100 });
    assert.deepEqual(c.osc, { host: '127.0.0.1', port: 5005, replyToSender: true, maxPacketBytes: 65507, allow: [], recvBufferBytes: 4194304 });
    assert.equal(c.engine.numVoices, 8);
    assert.deepEqual(c.sessions, { enabled: true, maxCount: 50, maxBytes: 1073741824 });
    assert.equal(c.engine.smoothingMs, 20);
    assert.equal(c.engine.statusFile, path.join(root, 'engine_status.txt'));
    assert.deepEqual(c.paths, {
      plugins: path.join(root, 'plugins'),
      patterns: path.join(root, 'patterns'),
      recordings: path.join(root, 'recordings'),
      schemas: path.join(root, 'schemas'),
      data: path.join(root, 'data'),
      sessions: path.join(root, 'sessions'),
    });
    assert.deepEqual(c.plugins, {
      recorder: { enabled: false, format: 'int24', tap: 'master' },
      viz: { host: '127.0.0.1', port: 5006, intervalMs: 100, spectrum: 'legacy' },
      web: { port: 5007, host: '127.0.0.1', advertise: false, mdnsInterface: null, name: 'Chronus', frameHz: 30, origins: [] },
    });
  });

  test('empty env values count as unset', () => {
    const c = loadConfig({ root: project(), env: { CHRONUS_SAMPLE_RATE: '', CHRONUS_AUDIO: '  ' } });
    assert.equal(c.audio.sampleRate, 48000);
    assert.equal(c.audio.backend, 'auto');
  });
});

describe('config: precedence default < local < env', () => {
  test('local overrides default, env overrides local, the rest is deep-merged', () => {
    const root = project({ audio: { sampleRate: 44100, bufferSize: 128 }, osc: { port: 6000 } });
    const c = loadConfig({ root, env: { CHRONUS_BUFFER_SIZE: '512' } });
    assert.equal(c.audio.sampleRate, 44100); // local
    assert.equal(c.audio.bufferSize, 512); // env beats local
    assert.equal(c.osc.port, 6000); // local
    assert.equal(c.audio.backend, 'auto'); // default, sibling of overridden keys
    assert.equal(c.osc.host, '127.0.0.1');
  });

  test('every env var maps to its field', () => {
    const c = loadConfig({
      root: project(),
      env: {
        CHRONUS_SAMPLE_RATE: '96000',
        CHRONUS_BUFFER_SIZE: '64',
        CHRONUS_OSC_PORT: '0',
        CHRONUS_AUDIO: 'null',
        CHRONUS_NUM_VOICES: '16',
        CHRONUS_DEVICE: 'system',
      },
    });
    assert.equal(c.audio.sampleRate, 96000);
    assert.equal(c.audio.bufferSize, 64);
    assert.equal(c.osc.port, 0);
    assert.equal(c.audio.backend, 'null');
    assert.equal(c.engine.numVoices, 16);
    assert.equal(c.audio.device, 'system');
  });

  test('CHRONUS_DEVICE made of digits is a device index', () => {
    assert.equal(loadConfig({ root: project(), env: { CHRONUS_DEVICE: '2' } }).audio.device, 2);
  });

  test('plugins.<id>: enabled merges with the default section and plugin keys pass through', () => {
    const root = project({ plugins: { recorder: { enabled: true, format: 'float32' }, lfo: { rate: 2 } } });
    const c = loadConfig({ root, env: {} });
    assert.deepEqual(c.plugins.recorder, { enabled: true, format: 'float32', tap: 'master' });
    assert.deepEqual(c.plugins.lfo, { rate: 2 });
  });

  test('a named local file is used instead of config/local.json; false reads none', () => {
    const root = project({ audio: { sampleRate: 44100 } });
    writeFileSync(path.join(root, 'other.json'), JSON.stringify({ audio: { sampleRate: 32000 } }));
    assert.equal(loadConfig({ root, env: {}, localFile: 'other.json' }).audio.sampleRate, 32000);
    assert.equal(loadConfig({ root, env: {}, localFile: false }).audio.sampleRate, 48000);
    assert.equal(loadConfig({ root, env: {} }).audio.sampleRate, 44100);
  });

  test('null in local.json replaces a value', () => {
    const root = project({ audio: { device: 'hw:1' } });
    assert.equal(loadConfig({ root, env: {} }).audio.device, 'hw:1');
    const root2 = project({ audio: { device: null } });
    assert.equal(loadConfig({ root: root2, env: { CHRONUS_DEVICE: '' } }).audio.device, null);
  });
});

describe('config: every bad value is reported', () => {
  const badEnv: [name: string, value: string, field: string, found: string][] = [
    ['CHRONUS_SAMPLE_RATE', 'fast', 'audio.sampleRate', '"fast"'],
    ['CHRONUS_SAMPLE_RATE', '7999', 'audio.sampleRate', '7999'],
    ['CHRONUS_SAMPLE_RATE', '192001', 'audio.sampleRate', '192001'],
    ['CHRONUS_SAMPLE_RATE', '44100.5', 'audio.sampleRate', '44100.5'],
    ['CHRONUS_BUFFER_SIZE', '8', 'audio.bufferSize', '8'],
    ['CHRONUS_BUFFER_SIZE', '8192', 'audio.bufferSize', '8192'],
    ['CHRONUS_BUFFER_SIZE', '256frames', 'audio.bufferSize', '"256frames"'],
    ['CHRONUS_OSC_PORT', '65536', 'osc.port', '65536'],
    ['CHRONUS_OSC_PORT', '-1', 'osc.port', '-1'],
    ['CHRONUS_OSC_PORT', 'http', 'osc.port', '"http"'],
    ['CHRONUS_AUDIO', 'alsa', 'audio.backend', '"alsa"'],
    ['CHRONUS_NUM_VOICES', '0', 'engine.numVoices', '0'],
    ['CHRONUS_NUM_VOICES', '129', 'engine.numVoices', '129'],
    ['CHRONUS_NUM_VOICES', '2.5', 'engine.numVoices', '2.5'],
  ];
  for (const [name, value, field, found] of badEnv) {
    test(`${name}=${value} is rejected naming the env var, field, value and what is allowed`, () => {
      const error = loadError({ root: project(), env: { [name]: value } });
      assert.equal(error.code, ErrorCode.CONFIG_INVALID);
      assert.equal(error.details.length, 1);
      const line = error.details[0]!;
      assert.ok(line.startsWith(`env ${name}: ${field}: `), line);
      assert.ok(line.includes(`(found ${found})`), line);
      assert.ok(line.includes(`${name} must be `), line);
      assert.ok(error.message.includes(line));
    });
  }

  test('the allowed values appear in the message', () => {
    assert.match(loadError({ root: project(), env: { CHRONUS_AUDIO: 'alsa' } }).message, /auto, device, null, offline/);
    assert.match(loadError({ root: project(), env: { CHRONUS_SAMPLE_RATE: '100' } }).message, />= 8000/);
    assert.match(loadError({ root: project(), env: { CHRONUS_OSC_PORT: '70000' } }).message, /<= 65535/);
  });

  test('an unknown key in local.json is rejected with its file, path and value', () => {
    const error = loadError({ root: project({ audio: { sampelRate: 44100 } }), env: {} });
    assert.equal(error.code, ErrorCode.CONFIG_INVALID);
    assert.deepEqual(error.details, [
      'config/local.json: audio.sampelRate: unknown key: remove it or check the spelling (found 44100)',
    ]);
  });

  test('an unknown top-level section and an unknown key inside a section', () => {
    const error = loadError({ root: project({ midi: {}, osc: { colour: 'red' } }), env: {} });
    assert.equal(error.details.length, 2);
    assert.ok(error.details.some((l) => l.startsWith('config/local.json: midi: unknown key')));
    assert.ok(error.details.some((l) => l.startsWith('config/local.json: osc.colour: unknown key') && l.includes('"red"')));
  });

  test('wrong types in local.json', () => {
    const error = loadError({
      root: project({
        audio: { sampleRate: '48000', device: true, leadBlocks: 0, cpuDmaLatencyUs: -5 },
        osc: { replyToSender: 'yes' },
        engine: { smoothingMs: -1 },
        viz: { enabled: 1 },
        paths: { plugins: 5 },
        plugins: { recorder: { enabled: 'no' }, Bad_Id: {}, lfo: 3 },
      }),
      env: {},
    });
    const expect = [
      ['audio.sampleRate', 'expected a number', '"48000"'],
      ['audio.device', 'must be a string or a number or null', 'true'],
      ['audio.leadBlocks', 'must be >= 1', '0'],
      ['audio.cpuDmaLatencyUs', 'must be', '-5'],
      ['osc.replyToSender', 'expected a boolean', '"yes"'],
      ['engine.smoothingMs', 'must be >= 0', '-1'],
      // The old top-level `viz` section is read as the viz plugin's.
      ['plugins.viz.enabled', 'expected a boolean', '1'],
      ['paths.plugins', 'expected a string', '5'],
      ['plugins.recorder.enabled', 'expected a boolean', '"no"'],
      ['plugins.Bad_Id', 'invalid key: must be a plugin id', '"Bad_Id"'],
      ['plugins.lfo', 'expected an object', '3'],
    ];
    assert.equal(error.details.length, expect.length, error.message);
    for (const [field, message, found] of expect) {
      const line = error.details.find((l) => l.startsWith(`config/local.json: ${field}: `));
      assert.ok(line, `no line for ${field} in\n${error.message}`);
      assert.ok(line.includes(message) && line.includes(`(found ${found})`), line);
    }
  });

  test('all problems from files and env are reported together in one throw', () => {
    const root = project({ audio: { sampelRate: 1, backend: 'jack' }, paths: { recordings: '../out' } });
    const error = loadError({ root, env: { CHRONUS_NUM_VOICES: '999', CHRONUS_OSC_PORT: 'x' } });
    assert.equal(error.code, ErrorCode.CONFIG_INVALID);
    assert.equal(error.details.length, 5, error.message);
    for (const part of ['audio.sampelRate', 'audio.backend', 'paths.recordings', 'env CHRONUS_NUM_VOICES', 'env CHRONUS_OSC_PORT']) {
      assert.ok(error.message.includes(part), `${part} missing from\n${error.message}`);
    }
    assert.match(error.message, /^CONFIG_INVALID: 5 problems in the configuration:/);
  });

  test('problems in default.json are attributed to it', () => {
    const root = project();
    const bad = structuredClone(defaults);
    bad.engine.numVoices = 200;
    delete bad.osc.host;
    writeFileSync(path.join(root, 'config', 'default.json'), JSON.stringify(bad));
    const error = loadError({ root, env: {} });
    assert.ok(error.details.includes('config/default.json: engine.numVoices: must be <= 128 (found 200)'), error.message);
    assert.ok(error.details.includes('config/default.json: osc.host: is required: expected a string (missing)'), error.message);
  });

  test('local.json that is not JSON, or not an object, is reported with its name', () => {
    let error = loadError({ root: project('{ "audio": '), env: {} });
    assert.equal(error.code, ErrorCode.CONFIG_INVALID);
    assert.match(error.details[0]!, /^config\/local\.json: not valid JSON/);
    error = loadError({ root: project('[1]'), env: {} });
    assert.match(error.details[0]!, /^config\/local\.json: expected a JSON object .*\(found \[1\]\)/);
  });

  test('a bad JSON local file and a bad env var are reported together', () => {
    const error = loadError({ root: project('nope'), env: { CHRONUS_AUDIO: 'x' } });
    assert.equal(error.details.length, 2, error.message);
  });

  test('a missing default.json, or a named local file that does not exist, is an error', () => {
    const root = project();
    rmSync(path.join(root, 'config', 'default.json'));
    assert.match(loadError({ root, env: {} }).message, /config\/default\.json: file not found/);
    assert.match(loadError({ root: project(), env: {}, localFile: 'nope.json' }).message, /nope\.json: file not found/);
  });

  test('a "__proto__" key is an unknown key, not a prototype change', () => {
    const error = loadError({ root: project('{"__proto__": {"polluted": true}}'), env: {} });
    assert.match(error.details[0]!, /^config\/local\.json: __proto__: unknown key/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('config: paths stay inside the root', () => {
  for (const [field, value] of [
    ['recordings', '../recordings'],
    ['plugins', 'plugins/../../elsewhere'],
    ['patterns', '/etc'],
  ] as const) {
    test(`paths.${field} = ${JSON.stringify(value)} is a PATH_ESCAPE naming the field`, () => {
      const root = project({ paths: { [field]: value } });
      const error = loadError({ root, env: {} });
      assert.equal(error.code, ErrorCode.PATH_ESCAPE);
      assert.equal(error.details.length, 1);
      const line = error.details[0]!;
      assert.ok(line.startsWith(`config/local.json: paths.${field}: must stay inside`), line);
      assert.ok(line.includes(`(found ${JSON.stringify(value)})`), line);
    });
  }

  test('engine.statusFile is a path too', () => {
    const error = loadError({ root: project({ engine: { statusFile: '../status.txt' } }), env: {} });
    assert.equal(error.code, ErrorCode.PATH_ESCAPE);
    assert.match(error.message, /engine\.statusFile/);
  });

  test('an escape together with another bad value is listed under CONFIG_INVALID', () => {
    const error = loadError({ root: project({ paths: { plugins: '..' } }), env: { CHRONUS_AUDIO: 'x' } });
    assert.equal(error.code, ErrorCode.CONFIG_INVALID);
    assert.equal(error.details.length, 2);
  });

  test('".." that stays inside, and an absolute path inside the root, are fine', () => {
    const root = project();
    writeFileSync(
      path.join(root, 'config', 'local.json'),
      JSON.stringify({ paths: { plugins: 'a/../my-plugins', recordings: path.join(root, 'out', 'rec') } }),
    );
    const c = loadConfig({ root, env: {} });
    assert.equal(c.paths.plugins, path.join(root, 'my-plugins'));
    assert.equal(c.paths.recordings, path.join(root, 'out', 'rec'));
  });
});

/**
 * The web plugin's OSCQuery server (plugins/web/oscquery*.ts) against the Vidvox OSCQuery proposal:
 * HOST_INFO and the namespace field by field, single-attribute queries and their 204/400/404 answers,
 * LISTEN streaming a value changed over OSC, IGNORE, OSC over the WebSocket (only what the web port may
 * drive), PATH_ADDED / PATH_REMOVED when a plugin folder is dropped in and removed. And the page's
 * files beside it: served from public/ only, with their types and a content security policy, the
 * vendored uPlot the very file of the uplot package.
 */
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodePacket, encodeMessage } from '../../plugins/web/osc-codec.ts';
import { freePort, getJson, httpGet, openSocket, type TestSocket } from '../helpers/http.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT } from '../helpers/offline-engine.ts';
import { startWebEngine, type WebEngine } from '../helpers/web-engine.ts';

interface Node {
  FULL_PATH: string;
  ACCESS: number;
  DESCRIPTION?: string;
  TYPE?: string;
  VALUE?: unknown[];
  RANGE?: { MIN?: number; MAX?: number; VALS?: unknown[] }[];
  CLIPMODE?: string[];
  UNIT?: string[];
  CONTENTS?: Record<string, Node>;
}

const ATTRIBUTES = new Set(['FULL_PATH', 'CONTENTS', 'TYPE', 'ACCESS', 'VALUE', 'RANGE', 'DESCRIPTION', 'TAGS', 'EXTENDED_TYPE', 'UNIT', 'CRITICAL', 'CLIPMODE', 'OVERLOADS', 'HTML']);
const UNITS = new Set(['time.hz', 'time.second', 'time.ms', 'gain.db', 'time.bpm', 'time.cents']);

function* walk(node: Node): Generator<Node> {
  yield node;
  for (const child of Object.values(node.CONTENTS ?? {})) yield* walk(child);
}

let web: WebEngine;

before(async () => {
  web = await startWebEngine({ plugins: ['voices', 'distortion'] });
});
after(() => web?.close());

describe('OSCQuery over HTTP', () => {
  test('?HOST_INFO: NAME, EXTENSIONS, OSC_IP, OSC_PORT, OSC_TRANSPORT, and nothing else', async () => {
    const r = await httpGet(web.webPort, '/?HOST_INFO');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), {
      NAME: 'Chronus',
      EXTENSIONS: {
        ACCESS: true,
        VALUE: true,
        RANGE: true,
        DESCRIPTION: true,
        TAGS: false,
        EXTENDED_TYPE: false,
        UNIT: true,
        CRITICAL: false,
        CLIPMODE: true,
        LISTEN: true,
        PATH_CHANGED: false,
        PATH_RENAMED: false,
        PATH_ADDED: true,
        PATH_REMOVED: true,
      },
      OSC_IP: '127.0.0.1',
      OSC_PORT: web.oscPort,
      OSC_TRANSPORT: 'UDP',
    });
  });

  test('the namespace: every node well formed, every parameter of the schema a typed, ranged, valued method', async () => {
    const root = (await getJson(web.webPort, '/')) as Node;
    assert.equal(root.FULL_PATH, '/');
    assert.equal(root.ACCESS, 0);
    assert.ok(root.CONTENTS?.mod && root.CONTENTS.gate && root.CONTENTS.engine, 'containers /mod, /gate and /engine');
    for (const node of walk(root)) {
      for (const key of Object.keys(node)) assert.ok(ATTRIBUTES.has(key), `${node.FULL_PATH}: ${key} is an attribute of the proposal`);
      assert.ok([0, 1, 2, 3].includes(node.ACCESS), `${node.FULL_PATH}: ACCESS is 0-3`);
      for (const [name, child] of Object.entries(node.CONTENTS ?? {})) assert.equal(child.FULL_PATH, `${node.FULL_PATH === '/' ? '' : node.FULL_PATH}/${name}`);
      if (node.TYPE === undefined) {
        assert.equal(node.VALUE, undefined, `${node.FULL_PATH}: no VALUE without a TYPE`);
        continue;
      }
      assert.match(node.TYPE, /^[if]$/, `${node.FULL_PATH}: TYPE is an OSC type tag string`);
      assert.equal(node.RANGE?.length, node.TYPE.length, `${node.FULL_PATH}: one RANGE entry per type`);
      assert.equal(node.CLIPMODE?.length, node.TYPE.length, `${node.FULL_PATH}: one CLIPMODE entry per type`);
      for (const r of node.RANGE ?? []) assert.ok(typeof r.MIN === 'number' && typeof r.MAX === 'number' && r.MIN <= r.MAX, `${node.FULL_PATH}: RANGE ${JSON.stringify(r)}`);
      for (const u of node.UNIT ?? []) assert.ok(UNITS.has(u), `${node.FULL_PATH}: UNIT ${u} is one of the proposal's units`);
      if (node.ACCESS & 1) {
        assert.equal(node.VALUE?.length, node.TYPE.length, `${node.FULL_PATH}: one VALUE per type`);
        const [v] = node.VALUE as number[];
        const [{ MIN, MAX }] = node.RANGE as { MIN: number; MAX: number }[];
        assert.ok(v >= MIN && v <= MAX, `${node.FULL_PATH}: VALUE ${v} within its RANGE`);
      }
    }
    // Every parameter of /engine/schema, for every instance, and nothing else under /mod.
    const doc = (await web.request('/engine/schema', [], '/engine/schema')).json as { modules: Record<string, { instances: string[]; params: Record<string, unknown> }> };
    const expected = Object.values(doc.modules).flatMap((g) => g.instances.flatMap((i) => Object.keys(g.params).map((p) => `/mod/${i}/${p}`)));
    const methods = [...walk(root)].filter((n) => n.FULL_PATH.startsWith('/mod/') && n.TYPE !== undefined).map((n) => n.FULL_PATH);
    assert.deepEqual(methods.sort(), expected.sort());

    assert.deepEqual((root.CONTENTS.mod.CONTENTS?.voice1.CONTENTS?.freq as Node), {
      FULL_PATH: '/mod/voice1/freq',
      ACCESS: 3,
      DESCRIPTION: 'Oscillator frequency [Hz]',
      TYPE: 'f',
      VALUE: [440],
      RANGE: [{ MIN: 20, MAX: 5000 }],
      CLIPMODE: ['both'],
      UNIT: ['time.hz'],
    });
    const waveform = root.CONTENTS.mod.CONTENTS?.voice1.CONTENTS?.osc.CONTENTS?.type as Node;
    assert.equal(waveform.TYPE, 'i');
    assert.deepEqual(waveform.RANGE, [{ MIN: 0, MAX: 5, VALS: [0, 1, 2, 3, 4, 5] }]);
    assert.match(waveform.DESCRIPTION ?? '', /0 sine · 1 saw · 2 square · 3 white · 4 pink · 5 brown/);
    assert.equal(waveform.UNIT, undefined, 'no UNIT where none applies');
    assert.deepEqual((root.CONTENTS.mod.CONTENTS?.voice1.CONTENTS?.adsr.CONTENTS?.attack as Node).UNIT, ['time.second']);
    assert.deepEqual(root.CONTENTS.gate.CONTENTS?.voice1, {
      FULL_PATH: '/gate/voice1',
      DESCRIPTION: (root.CONTENTS.gate.CONTENTS?.voice1 as Node).DESCRIPTION,
      ACCESS: 2,
      TYPE: 'i',
      RANGE: [{ MIN: 0, MAX: 1, VALS: [0, 1] }],
      CLIPMODE: ['none'],
    });
    assert.equal(root.CONTENTS.gate.CONTENTS?.['1'], undefined, 'aliases are not nodes');
    const reset = root.CONTENTS.engine.CONTENTS?.plugin.CONTENTS?.reset as Node;
    assert.deepEqual([reset.ACCESS, reset.TYPE], [0, undefined]);
    assert.match(reset.DESCRIPTION ?? '', /arguments: plugin_id/);
  });

  test('single attributes: ?VALUE follows OSC (clamped as OSC clamps); 204 for an attribute a node lacks, 400 for none of the proposal, 404 for no node', async () => {
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?VALUE'), { VALUE: [440] });
    await web.send('/mod/voice1/freq', [880]);
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?VALUE'), { VALUE: [880] });
    await web.send('/mod/voice1/freq', [99999]);
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?VALUE'), { VALUE: [5000] });
    await web.send('/mod/voice1/freq', [440]);
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?RANGE'), { RANGE: [{ MIN: 20, MAX: 5000 }] });
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?TYPE'), { TYPE: 'f' });
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?ACCESS'), { ACCESS: 3 });
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?UNIT'), { UNIT: ['time.hz'] });
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?CLIPMODE'), { CLIPMODE: ['both'] });
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?FULL_PATH'), { FULL_PATH: '/mod/voice1/freq' });
    assert.deepEqual(await getJson(web.webPort, '/mod/voice1/freq?DESCRIPTION'), { DESCRIPTION: 'Oscillator frequency [Hz]' });
    const contents = (await getJson(web.webPort, '/mod/voice1/?CONTENTS')) as { CONTENTS: Record<string, Node> };
    assert.deepEqual(Object.keys(contents.CONTENTS.filter.CONTENTS ?? {}).sort(), ['freq', 'q']);
    assert.equal((await httpGet(web.webPort, '/mod/voice1?VALUE')).status, 204);
    assert.equal((await httpGet(web.webPort, '/mod/voice1/freq?CONTENTS')).status, 204);
    assert.equal((await httpGet(web.webPort, '/mod/voice1/freq?TAGS')).status, 204);
    assert.equal((await httpGet(web.webPort, '/mod/voice1/freq?NOPE')).status, 400);
    assert.equal((await httpGet(web.webPort, '/mod/voice99/freq')).status, 404);
    assert.equal((await httpGet(web.webPort, '/mod/voice1/freq', { method: 'POST' })).status, 405);
  });
});

describe('OSCQuery over WebSocket', () => {
  const isBinary = (m: string | Buffer): m is Buffer => typeof m !== 'string';
  const osc = (m: string | Buffer) => decodePacket(new Uint8Array(m as Buffer))[0];
  /** Every message before it has been handled once the answer to a node request comes back. */
  const sync = async (s: TestSocket) => {
    s.ws.send('/mod/voice1/amp?FULL_PATH');
    await s.nextMatching((m) => typeof m === 'string' && m.includes('"FULL_PATH":"/mod/voice1/amp"'));
  };

  test('LISTEN: a value changed over OSC arrives as a binary OSC message; IGNORE stops it', async () => {
    const s = await openSocket(web.webPort, '/');
    try {
      s.ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/mod/voice1/filter/freq' }));
      await sync(s);
      await web.send('/mod/voice1/filter/freq', [1234]);
      const m = osc(await s.nextMatching(isBinary));
      assert.equal(m.address, '/mod/voice1/filter/freq');
      assert.deepEqual(m.args, [1234]);

      s.ws.send(JSON.stringify({ COMMAND: 'IGNORE', DATA: '/mod/voice1/filter/freq' }));
      s.ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/mod/voice1/osc/type' }));
      await sync(s);
      await web.send('/mod/voice1/filter/freq', [2000]);
      await web.send('/mod/voice1/osc/type', [2]);
      const next = osc(await s.nextMatching(isBinary));
      assert.deepEqual([next.address, next.args], ['/mod/voice1/osc/type', [2]], 'the ignored path sent nothing; an int parameter streams as an int');
    } finally {
      s.ws.close();
    }
  });

  test('OSC sent over the WebSocket drives parameters like a client; what the web port may not drive is refused', async () => {
    const s = await openSocket(web.webPort, '/');
    try {
      s.ws.send(encodeMessage('/mod/voice1/amp', [0.25]));
      await sync(s);
      await web.until(async () => ((await getJson(web.webPort, '/mod/voice1/amp?VALUE')) as { VALUE: number[] }).VALUE[0] === 0.25, 'the value over OSCQuery');
      s.ws.send(encodeMessage('/pattern/save', [1], 'i'));
      const refused = osc(await s.nextMatching(isBinary));
      assert.deepEqual([refused.address, refused.args[0], refused.args[1]], ['/error', '/pattern/save', 'WEB_NOT_ALLOWED']);
    } finally {
      s.ws.close();
    }
  });

  test('PATH_ADDED when a plugin folder is dropped in, PATH_REMOVED when it is removed', async () => {
    const s = await openSocket(web.webPort, '/');
    const folder = path.join(web.root, 'plugins', 'tone');
    try {
      await cp(path.join(FIXTURE_PLUGINS, 'tone'), folder, { recursive: true });
      const added: Node[] = [];
      const seen = (p: string) => added.some((n) => n.FULL_PATH === p);
      while (!seen('/mod/tone2') || !seen('/gate/tone2')) {
        const m = await s.nextMatching((x) => typeof x === 'string' && x.includes('PATH_ADDED'), 15_000);
        const command = JSON.parse(m as string) as { COMMAND: string; DATA: Node };
        assert.equal(command.COMMAND, 'PATH_ADDED');
        added.push(command.DATA);
      }
      const tone1 = added.find((n) => n.FULL_PATH === '/mod/tone1');
      assert.ok(tone1?.CONTENTS && Object.values(tone1.CONTENTS).every((p) => p.TYPE !== undefined && p.FULL_PATH.startsWith('/mod/tone1/')), 'the module arrives with its parameters inside');
      assert.ok(seen('/gate/tone1'), 'and its gate');
      assert.equal((await httpGet(web.webPort, '/mod/tone1')).status, 200);

      await rm(folder, { recursive: true, force: true });
      const removed = new Set<string>();
      while (!['/mod/tone1', '/mod/tone2', '/gate/tone1', '/gate/tone2'].every((p) => removed.has(p))) {
        const m = JSON.parse((await s.nextMatching((x) => typeof x === 'string' && x.includes('PATH_REMOVED'), 15_000)) as string) as { COMMAND: string; DATA: string };
        assert.equal(typeof m.DATA, 'string');
        removed.add(m.DATA);
      }
      assert.equal((await httpGet(web.webPort, '/mod/tone1')).status, 404);
    } finally {
      s.ws.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
  test('with no client connected, the namespace answered after a plugin goes or comes is the new one', async () => {
    // Unloaded and loaded by the engine itself, not through the watcher: what is tested is the answer.
    const folder = web.engine.plugins.folderOf('distortion');
    assert.ok(folder, 'distortion is loaded');
    assert.equal((await httpGet(web.webPort, '/mod/dist1/drive')).status, 200);
    await web.engine.plugins.unload('distortion');
    try {
      assert.equal((await httpGet(web.webPort, '/mod/dist1/drive')).status, 404, 'gone once unloaded');
      assert.equal(((await getJson(web.webPort, '/')) as Node).CONTENTS?.mod?.CONTENTS?.dist1, undefined, 'from the whole namespace too');
    } finally {
      await web.engine.plugins.load(folder);
    }
    assert.equal((await httpGet(web.webPort, '/mod/dist1/drive')).status, 200, 'back once loaded');
    assert.ok(((await getJson(web.webPort, '/')) as Node).CONTENTS?.mod?.CONTENTS?.dist1, 'in the whole namespace too');
  });
});

describe('the page beside OSCQuery', () => {
  test('GET / is the page for a browser and the namespace for anyone else; files come from public/ only', async () => {
    const page = await httpGet(web.webPort, '/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'; script-src 'self'/);
    assert.match(page.body, /<script src="\/web\/app\.js" type="module">/);
    assert.equal(((await getJson(web.webPort, '/')) as Node).FULL_PATH, '/', 'an OSCQuery client (no text/html) gets the namespace');

    const app = await httpGet(web.webPort, '/web/app.js');
    assert.deepEqual([app.status, app.headers['content-type']], [200, 'text/javascript; charset=utf-8']);
    assert.equal((await httpGet(web.webPort, '/web/style.css')).headers['content-type'], 'text/css; charset=utf-8');
    for (const escape of ['/web/../plugin.json', '/web/%2e%2e/plugin.json', '/web/..%2fcontrol.ts', '/web/vendor/../../control.ts', '/web/', '/web/vendor']) {
      assert.equal((await httpGet(web.webPort, escape)).status, 404, escape);
    }
  });

  test("the page's live feed refuses a WebSocket from another site and anything but parameters, gates and the recorder", async () => {
    await assert.rejects(openSocket(web.webPort, '/web/live', { origin: 'http://evil.example' }), /403/);
    const s = await openSocket(web.webPort, '/web/live', { origin: `http://127.0.0.1:${web.webPort}` });
    const hello = JSON.parse((await s.next()) as string) as { t: string; plugins: { id: string }[] };
    assert.equal(hello.t, 'hello');
    assert.ok(hello.plugins.some((p) => p.id === 'voices'));
    s.ws.send(JSON.stringify({ t: 'send', id: 7, address: '/pattern/save', args: [1] }));
    const reply = JSON.parse((await s.nextMatching((m) => typeof m === 'string' && m.includes('"t":"reply"'))) as string) as { id: number; address: string; args: unknown[] };
    assert.deepEqual([reply.id, reply.address, reply.args[1]], [7, '/error', 'WEB_NOT_ALLOWED']);
    s.ws.close();
  });

  test("the vendored uPlot is the uplot package's own file", async () => {
    for (const file of ['uPlot.iife.min.js', 'uPlot.min.css']) {
      const vendored = await readFile(path.join(PROJECT_ROOT, 'plugins/web/public/vendor', file));
      const packaged = await readFile(path.join(PROJECT_ROOT, 'node_modules/uplot/dist', file));
      assert.ok(vendored.equals(packaged), `plugins/web/public/vendor/${file} differs from node_modules/uplot/dist/${file}: copy it again after updating uplot`);
    }
  });
});

describe('plugins.web changed while running', () => {
  test('a new port in config/local.json moves the server at once: the old port closes, the new one answers', async () => {
    const before = web.webPort;
    const port = await freePort();
    await writeFile(path.join(web.root, 'config/local.json'), JSON.stringify({ plugins: { web: { port, name: 'Moved' } } }));
    await web.until(() => web.engine.plugins.controls.statuses.get('web')?.port === port, 'the web plugin on its new port');
    assert.equal(((await getJson(port, '/?HOST_INFO')) as { NAME: string }).NAME, 'Moved');
    await assert.rejects(httpGet(before, '/'), /ECONNREFUSED/);
    web.webPort = port;
  });
});

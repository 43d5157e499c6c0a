/**
 * A control half's HTTP + WebSocket server (`ctx.http`, kernel/plugins/control-http.ts) and its
 * read-only plugin folder (`ctx.pluginFiles`): what the kernel guards before the plugin sees a request
 * (method, Host, Origin, senders beyond loopback), a hot reload that takes the listening port over
 * (old WebSockets closed with 1012, a broken edit keeps the old server), and an unload that closes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OfflineEngine } from '../helpers/offline-engine.ts';
import { freePort, httpGet, openSocket } from '../helpers/http.ts';

const MANIFEST = { id: 'srv', name: 'Server test', version: '1.0.0', apiVersion: 1, role: 'controller', control: 'control.ts' };

const control = (tag: string) => `
import { defineControl } from 'plugin-sdk';
export default defineControl({
  async create(ctx) {
    const server = await ctx.http({ port: ctx.config.port ?? 0, host: ctx.config.host });
    server.onRequest(async (req) => {
      if (req.url === '/file') return { headers: { 'content-type': 'text/plain' }, body: await ctx.pluginFiles.readFile('static/hello.txt') };
      if (req.url === '/escape') {
        try {
          await ctx.pluginFiles.readFile('../outside.txt');
          return { status: 200, body: 'read it' };
        } catch (e) {
          return { status: 403, body: String(e.code) };
        }
      }
      if (req.url === '/throw') throw new Error('boom');
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tag: '${tag}', method: req.method, url: req.url }) };
    });
    server.onWebSocket((socket, req) => {
      socket.send('hello ${tag} ' + req.url);
      socket.onMessage((m) => socket.send(typeof m === 'string' ? 'echo ' + m : m));
    });
    ctx.setStatus({ port: server.port });
    return {};
  },
});
`;

async function pluginsDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-http-'));
  await mkdir(path.join(dir, 'srv', 'static'), { recursive: true });
  await writeFile(path.join(dir, 'srv/plugin.json'), JSON.stringify(MANIFEST));
  await writeFile(path.join(dir, 'srv/control.ts'), control('v1'));
  await writeFile(path.join(dir, 'srv/static/hello.txt'), 'hello from the plugin folder');
  return dir;
}

/**
 * An engine with the `srv` plugin (config `settings`), watching its plugins; with `dropIn` the folder
 * arrives after the start, so a failure to load is heard as /engine/error.
 */
async function withServer(
  settings: Record<string, unknown>,
  run: (oe: OfflineEngine, folder: string) => Promise<void>,
  options: { configure?: (c: OfflineEngine['engine']['config']) => void; dropIn?: boolean } = {},
): Promise<void> {
  const src = await pluginsDir();
  const oe = await OfflineEngine.start({
    pluginsFrom: src,
    only: options.dropIn ? [] : undefined,
    watch: true,
    configure: (c) => {
      c.plugins.srv = settings;
      options.configure?.(c);
    },
  });
  try {
    if (options.dropIn) await cp(path.join(src, 'srv'), path.join(oe.root, 'plugins', 'srv'), { recursive: true });
    await run(oe, path.join(oe.root, 'plugins', 'srv'));
  } finally {
    await oe.close();
    await rm(src, { recursive: true, force: true });
  }
}

const portOf = (oe: OfflineEngine) => oe.engine.plugins.controls.statuses.get('srv')?.port as number;

test('ctx.http answers GET and HEAD only, refuses a foreign Host, serves the plugin folder read only, answers 500 for a throw', async () => {
  await withServer({}, async (oe) => {
    const port = portOf(oe);
    assert.ok(port > 0, 'the server reports its port');

    const get = await httpGet(port, '/x?y');
    assert.equal(get.status, 200);
    assert.deepEqual(JSON.parse(get.body), { tag: 'v1', method: 'GET', url: '/x?y' });
    assert.equal(get.headers['x-content-type-options'], 'nosniff');

    const head = await httpGet(port, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.ok(Number(head.headers['content-length']) > 0, 'HEAD tells the length of what GET would send');

    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await httpGet(port, '/', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }

    // A DNS-rebinding page reaches 127.0.0.1 under its own name: refused.
    assert.equal((await httpGet(port, '/', { headers: { host: `evil.example:${port}` } })).status, 403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `${os.hostname()}:${port}`]) {
      assert.equal((await httpGet(port, '/', { headers: { host } })).status, 200, host);
    }

    assert.equal((await httpGet(port, '/file')).body, 'hello from the plugin folder');
    const escape = await httpGet(port, '/escape');
    assert.deepEqual([escape.status, escape.body], [403, 'PATH_ESCAPE']);

    assert.equal((await httpGet(port, '/throw')).status, 500);
    await oe.waitFor('/engine/notice', (r) => r.args[0] === 'srv' && String(r.args[1]).includes('boom'));
  });
});

test('ctx.http WebSockets: clients without an Origin and pages of the same origin are let in, other origins refused', async () => {
  await withServer({}, async (oe) => {
    const port = portOf(oe);
    const plain = await openSocket(port, '/any');
    assert.equal(await plain.next(), 'hello v1 /any');
    plain.ws.send('ping');
    assert.equal(await plain.next(), 'echo ping');
    plain.ws.send(Buffer.from([1, 2, 3]));
    assert.deepEqual([...(await plain.next() as Buffer)], [1, 2, 3]);
    plain.ws.close();

    const same = await openSocket(port, '/page', { origin: `http://127.0.0.1:${port}` });
    assert.equal(await same.next(), 'hello v1 /page');
    same.ws.close();

    await assert.rejects(openSocket(port, '/', { origin: 'http://evil.example' }), /403/);
    await assert.rejects(openSocket(port, '/', { origin: `http://evil.example:${port}`, headers: { host: `evil.example:${port}` } }), /403/);
  });
});

test('a hot reload takes the port over (old WebSockets closed with 1012), a broken edit keeps the old server, an unload closes it', async () => {
  const port = await freePort();
  await withServer({ port }, async (oe, folder) => {
    assert.equal(portOf(oe), port);
    const old = await openSocket(port, '/');
    assert.equal(await old.next(), 'hello v1 /');

    await writeFile(path.join(folder, 'control.ts'), control('v2'));
    await oe.waitFor('/engine/plugin/reloaded', (r) => r.args[0] === 'srv');
    assert.equal(await old.closed, 1012, 'the old version\'s WebSocket is closed as a service restart');
    assert.equal(portOf(oe), port, 'the same port');
    assert.equal(JSON.parse((await httpGet(port, '/')).body).tag, 'v2');
    const fresh = await openSocket(port, '/');
    assert.equal(await fresh.next(), 'hello v2 /');

    await writeFile(path.join(folder, 'control.ts'), `${control('v3')}\nthis is not TypeScript (`);
    await oe.waitFor('/engine/error', (r) => r.args[0] === 'srv');
    assert.equal(JSON.parse((await httpGet(port, '/')).body).tag, 'v2', 'the running version keeps serving');
    fresh.ws.send('still');
    assert.equal(await fresh.next(), 'echo still');

    await rm(folder, { recursive: true, force: true });
    await oe.waitFor('/engine/plugin/unloaded', (r) => r.args[0] === 'srv');
    assert.equal(await fresh.closed, 1001);
    await assert.rejects(httpGet(port, '/'), /ECONNREFUSED/);
  });
});

test('a port in use fails the load with HTTP_LISTEN_FAILED; beyond loopback needs osc.allow (HTTP_NOT_ALLOWED), and with it loopback still gets in', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as net.AddressInfo).port;
  try {
    await withServer(
      { port: taken },
      async (oe) => {
        const e = await oe.waitFor('/engine/error', (r) => r.args[0] === 'srv');
        assert.equal(e.args[1], 'HTTP_LISTEN_FAILED');
        assert.match(String(e.args[2]), /in use/);
        assert.equal(oe.engine.plugins.controlOnly.has('srv'), false);
      },
      { dropIn: true },
    );
  } finally {
    holder.close();
  }

  await withServer(
    { host: '0.0.0.0' },
    async (oe) => {
      const e = await oe.waitFor('/engine/error', (r) => r.args[0] === 'srv');
      assert.equal(e.args[1], 'HTTP_NOT_ALLOWED');
      assert.match(String(e.args[2]), /osc\.allow/);
    },
    { dropIn: true },
  );

  await withServer(
    { host: '0.0.0.0' },
    async (oe) => {
      const port = portOf(oe);
      assert.equal((await httpGet(port, '/')).status, 200, 'loopback is always let in');
    },
    { configure: (c) => (c.osc.allow = ['192.0.2.10']) },
  );
});

/**
 * The engine's replier (kernel/osc/engine-replier.ts) and the router's failure paths: no reply and no
 * handler failure ever throws or becomes an unhandled rejection; what cannot go as it is goes
 * clipped, as a short /error, or is counted and dropped — over a real UDP socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { EngineReplier } from '../../kernel/osc/engine-replier.ts';
import { OscClient } from '../../cli/osc-client.ts';
import { OscRouter, type Remote, type Replier } from '../../kernel/osc/osc-router.ts';
import { encodeMessage, OscTransport, type OscSendArg } from '../../kernel/osc/osc-transport.ts';

/** Collects unhandled rejections while `fn` runs (and a little after: they are reported after microtasks). */
async function noUnhandledRejections(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

test('the router survives handlers that throw or reject with anything, and a replier that throws', async () => {
  const sent: { address: string; args: readonly unknown[] }[] = [];
  let throwing = false;
  const replier: Replier = {
    send(_remote, address, args) {
      if (throwing) throw new Error('replier broke its contract');
      sent.push({ address, args });
    },
    sendJson(_remote, address, value) {
      if (throwing) throw new Error('replier broke its contract');
      sent.push({ address, args: [JSON.stringify(value)] });
    },
  };
  const router = new OscRouter(replier);
  const none = z.tuple([]);
  router.mapRoute('/sync/undefined', () => { throw undefined; }, { args: none, description: '' });
  router.mapRoute('/async/undefined', async () => Promise.reject(undefined), { args: none, description: '' });
  router.mapRoute('/async/null-code', async () => { throw Object.assign(new Error('coded'), { code: 42 }); }, { args: none, description: '' });
  router.mapRoute('/async/reply', async (_a, ctx) => { ctx.reply('/ok'); ctx.replyJson('/ok/json', { a: 1 }); }, { args: none, description: '' });
  const remote: Remote = { address: '127.0.0.1', port: 9 };
  const unhandled = await noUnhandledRejections(async () => {
    for (const address of ['/sync/undefined', '/async/undefined', '/async/null-code', '/async/reply']) router.dispatch({ address, args: [], remote });
    await router.idle();
    assert.deepEqual(sent.filter((s) => s.address === '/error').map((s) => `${s.args[0]} ${s.args[1]}`).sort(), [
      '/async/null-code OSC_HANDLER_FAILED',
      '/async/undefined OSC_HANDLER_FAILED',
      '/sync/undefined OSC_HANDLER_FAILED',
    ]);
    throwing = true;
    for (const address of ['/sync/undefined', '/async/undefined', '/async/reply', '/no/such/route']) router.dispatch({ address, args: [], remote });
    await router.idle();
  });
  assert.deepEqual(unhandled, []);
  assert.equal(router.counters.replyErrors, 5, 'every reply the replier threw on is counted');
  assert.equal(router.counters.handlerErrors, 5);
});

/** A receiving client and a transport to send from; `received` collects what arrives. */
async function pair(t: { after(fn: () => Promise<void>): void }, maxPacketBytes: number) {
  const client = await OscClient.open();
  t.after(() => client.close());
  const transport = await OscTransport.open({ host: '127.0.0.1', port: 0, maxPacketBytes });
  t.after(() => transport.close());
  const received: { address: string; args: unknown[] }[] = [];
  client.onMessage = (m) => received.push({ address: m.address, args: [...m.args] });
  const until = async (n: number) => {
    for (let i = 0; i < 200 && received.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(received.length, n, JSON.stringify(received).slice(0, 500));
  };
  return { client, transport, received, until, remote: { address: '127.0.0.1', port: client.port } };
}

test('a reply that does not fit or encode is clipped (text) or replaced by a short /error, and every datagram fits', async (t) => {
  const { transport, received, until, remote } = await pair(t, 512);
  const seen: string[] = [];
  const replier = new EngineReplier({ transport: () => transport, onReply: () => (_r, address) => seen.push(address), maxPacketBytes: () => transport.maxPacketBytes });
  replier.send(remote, '/error', ['/mod/lfo1/target', 'LFO_UNKNOWN_TARGET', `no parameter ${'x'.repeat(65_400)}`]);
  replier.send(remote, '/engine/notice', ['voices', 'a NUL \0 here']);
  replier.send(remote, '/pattern/loaded', [1, 'j'.repeat(10_000)]);
  replier.send(remote, '/engine/list', ['fine']);
  replier.sendJson(remote, '/engine/status', { big: 1n });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  replier.sendJson(remote, '/engine/schema', cyclic);
  await until(6);
  for (const m of received) assert.ok(encodeMessage(m.address, m.args as OscSendArg[]).length <= 512, m.address);
  const [error, notice, loaded, list, status, schema] = received;
  assert.equal(error.address, '/error');
  assert.deepEqual(error.args.slice(0, 2), ['/mod/lfo1/target', 'LFO_UNKNOWN_TARGET']);
  assert.match(String(error.args[2]), /^no parameter x+…$/);
  assert.deepEqual(notice.args, ['voices', 'a NUL \\u0000 here']);
  assert.deepEqual(loaded.args.slice(0, 2), ['/pattern/loaded', 'OSC_REPLY_UNSENDABLE']);
  assert.match(String(loaded.args[2]), /the reply \/pattern\/loaded cannot be sent: \d+ bytes, more than a datagram \(512\)/);
  assert.deepEqual(list, { address: '/engine/list', args: ['fine'] });
  assert.deepEqual(status.args.slice(0, 2), ['/engine/status', 'OSC_REPLY_UNSENDABLE']);
  assert.match(String(status.args[2]), /BigInt/);
  assert.deepEqual(schema.args.slice(0, 2), ['/engine/schema', 'OSC_REPLY_UNSENDABLE']);
  assert.deepEqual(replier.counters, { clipped: 2, replaced: 3, dropped: 0 });
  assert.deepEqual(seen, ['/error', '/engine/notice', '/error', '/engine/list', '/error', '/error'], 'onReply sees what was sent');
});

test('a transport that throws anyway: the reply is counted as dropped, nothing escapes', () => {
  const broken = { maxPacketBytes: 512, send() { throw new Error('socket on fire'); }, sendJson() { throw new Error('socket on fire'); } };
  const replier = new EngineReplier({ transport: () => broken as unknown as OscTransport, onReply: () => null, maxPacketBytes: () => 512 });
  const remote = { address: '127.0.0.1', port: 9 };
  replier.send(remote, '/engine/list', ['x']);
  replier.sendJson(remote, '/engine/status', { ok: true });
  assert.deepEqual(replier.counters, { clipped: 0, replaced: 0, dropped: 2 });
});

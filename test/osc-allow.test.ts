/**
 * Listening beyond loopback (issue "Containment …"): `osc.host` other than loopback needs an
 * explicit `osc.allow` list (start refuses without one); packets from anyone else are dropped
 * before decoding and counted; a warning names the host and the list. Loopback is always allowed.
 * And the socket's receive buffer is sized (`osc.recvBufferBytes`) and reported as granted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../kernel/base/config.ts';
import { isChronusError } from '../kernel/base/errors.ts';
import { isLoopback, parseAllowEntry, SenderAllowList } from '../kernel/osc/osc-allow-list.ts';
import { OscClient } from '../cli/osc-client.ts';
import { encodeMessage, OscTransport } from '../kernel/osc/osc-transport.ts';
import { makeRoot, startEngineProcess, type EngineProcess } from './helpers/engine-process.ts';
import { eventually, HOST, status } from './helpers/containment.ts';
import { PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';

/** This machine's first non-loopback IPv4 address (a sender the allow-list can refuse), if any. */
const LAN = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const noLan = LAN ? false : 'no non-loopback IPv4 interface on this machine';

/** A UDP socket bound to `address` (so its packets come from there). */
async function senderOn(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  return s;
}

describe('the allow-list', () => {
  test('entries: IPv4 and IPv6 addresses and CIDR subnets; anything else is refused', () => {
    assert.deepEqual(parseAllowEntry('10.0.0.5'), { address: '10.0.0.5', family: 'ipv4', prefix: null });
    assert.deepEqual(parseAllowEntry('192.168.1.0/24'), { address: '192.168.1.0', family: 'ipv4', prefix: 24 });
    assert.deepEqual(parseAllowEntry('fd00::/8'), { address: 'fd00::', family: 'ipv6', prefix: 8 });
    for (const bad of ['', 'localhost', '10.0.0.256', '10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/x', 'example.com']) {
      assert.equal(parseAllowEntry(bad), null, bad);
    }
  });

  test('loopback is always allowed; others only when listed (IPv4-mapped senders match IPv4 entries)', () => {
    const allow = SenderAllowList.from(['192.168.1.0/24', '10.0.0.5', 'fd00::/8']);
    for (const yes of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '192.168.1.77', '::ffff:192.168.1.77', '10.0.0.5', 'fd00::1']) assert.ok(allow.allows(yes), yes);
    for (const no of ['192.168.2.1', '10.0.0.6', '::ffff:10.0.0.6', 'fe80::1', '8.8.8.8', 'garbage']) assert.ok(!allow.allows(no), no);
    assert.ok(isLoopback('localhost') && isLoopback('127.0.0.1') && !isLoopback('0.0.0.0') && !isLoopback('::'));
  });

  test('config: a host beyond loopback without osc.allow is refused, naming both fields; bad entries are named', async (t) => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-allow-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    await mkdir(path.join(root, 'config'));
    await writeTestConfig(root);
    const local = (osc: unknown) => writeFile(path.join(root, 'config/local.json'), JSON.stringify({ osc }));
    const problems = () => {
      try {
        loadConfig({ root, env: {} });
      } catch (e) {
        assert.ok(isChronusError(e, 'CONFIG_INVALID'), String(e));
        return e.details;
      }
      return [];
    };
    await local({ host: '0.0.0.0' });
    const [line] = problems();
    assert.match(line, /^config\/local\.json: osc\.host: "0\.0\.0\.0" listens beyond loopback, so osc\.allow must list the senders allowed/);
    await local({ host: '0.0.0.0', allow: ['10.0.0.5', 'nope'], recvBufferBytes: -1 });
    assert.deepEqual(problems(), [
      'config/local.json: osc.allow[1]: must be an IP address or a CIDR subnet, e.g. "10.0.0.5" or "192.168.1.0/24" (found "nope")',
      'config/local.json: osc.recvBufferBytes: must be >= 0 (found -1)',
    ]);
    await local({ host: '0.0.0.0', allow: ['10.0.0.0/8'] });
    assert.deepEqual(loadConfig({ root, env: {} }).osc.allow, ['10.0.0.0/8']);
    await local({ host: '::1' });
    assert.deepEqual(problems(), [], 'loopback needs no list');
  });
});

describe('the transport', () => {
  test('drops packets from senders not on the list before decoding, and counts them', { skip: noLan }, async (t) => {
    const transport = await OscTransport.open({ host: '0.0.0.0', port: 0, allow: SenderAllowList.from(['203.0.113.7']) });
    t.after(() => transport.close());
    const seen: string[] = [];
    transport.onMessage = (m) => seen.push(`${m.remote.address} ${m.address}`);
    transport.onBadPacket = (r) => seen.push(`${r.address} bad`);
    const lan = await senderOn(LAN as string);
    const loop = await senderOn('127.0.0.1');
    t.after(() => (lan.close(), loop.close()));
    const routes = encodeMessage('/engine/routes', []);
    lan.send(routes, transport.port, LAN as string);
    lan.send(Buffer.from('junk'), transport.port, LAN as string);
    loop.send(routes, transport.port, '127.0.0.1');
    await eventually(() => transport.stats.denied + transport.stats.packets, (n) => n === 3, 'three datagrams arrived');
    assert.equal(transport.stats.denied, 2);
    assert.deepEqual(seen, ['127.0.0.1 /engine/routes'], 'only loopback got through; the junk was not even decoded');
  });

  test('a listed sender gets through', { skip: noLan }, async (t) => {
    const transport = await OscTransport.open({ host: '0.0.0.0', port: 0, allow: SenderAllowList.from([`${LAN}/32`]) });
    t.after(() => transport.close());
    const seen: string[] = [];
    transport.onMessage = (m) => seen.push(m.address);
    const lan = await senderOn(LAN as string);
    t.after(() => lan.close());
    lan.send(encodeMessage('/engine/status', []), transport.port, LAN as string);
    await eventually(() => seen.length, (n) => n === 1, 'the message arrived');
    assert.equal(transport.stats.denied, 0);
  });

  test('the receive buffer is set and what the OS granted is read back', async (t) => {
    const asked = 1 << 20;
    const transport = await OscTransport.open({ host: '127.0.0.1', port: 0, recvBufferSize: asked });
    t.after(() => transport.close());
    const rmemMax = existsSync('/proc/sys/net/core/rmem_max') ? Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8')) : asked;
    assert.equal(transport.recvBufferProblem, null);
    // Linux grants min(asked, rmem_max) and reports twice that (its bookkeeping).
    assert.ok(transport.recvBufferBytes >= Math.min(asked, rmemMax), `${transport.recvBufferBytes} bytes`);
  });
});

describe('chronus start', () => {
  test('beyond loopback without osc.allow: start refuses with the config error', async (t) => {
    const root = await makeRoot();
    t.after(() => rm(root, { recursive: true, force: true }));
    await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ osc: { host: '0.0.0.0' } }));
    await assert.rejects(startEngineProcess({ root }), /engine exited with 1:[\s\S]*CONFIG_INVALID[\s\S]*osc\.host: "0\.0\.0\.0" listens beyond loopback, so osc\.allow must list/);
  });

  test('on 0.0.0.0 with a list: a warning names host and list; loopback is answered, others dropped and counted', async (t) => {
    const root = await makeRoot();
    let engine: EngineProcess | undefined;
    t.after(async () => {
      await engine?.stop();
      await rm(root, { recursive: true, force: true });
    });
    await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ osc: { host: '0.0.0.0', allow: ['203.0.113.0/24', '198.51.100.9'] } }));
    engine = await startEngineProcess({ root });
    const warning = engine.output.find((l) => l.includes('beyond loopback'));
    assert.ok(warning, engine.output.join('\n'));
    assert.match(warning, /warning: osc: listening on 0\.0\.0\.0:\d+, beyond loopback: packets are accepted from loopback and from 203\.0\.113\.0\/24, 198\.51\.100\.9 only \(osc\.allow\)/);
    assert.ok(engine.output.some((l) => /osc: receive buffer \d+ bytes/.test(l)), 'the start log reports the receive buffer');

    const client = await OscClient.open();
    t.after(() => client.close());
    const s = await status(client, engine.port);
    assert.deepEqual(s.osc.allow, ['203.0.113.0/24', '198.51.100.9']);
    assert.equal(s.osc.host, '0.0.0.0');
    assert.ok((s.osc.recvBufferBytes ?? 0) > 0);
    if (!LAN) return t.diagnostic(noLan as string);
    // A 20-byte /engine/routes used to be answered with ~20 KB: from a sender not on the list, nothing.
    const lan = await senderOn(LAN);
    t.after(() => lan.close());
    let answered = 0;
    lan.on('message', () => answered++);
    for (let i = 0; i < 5; i++) lan.send(encodeMessage('/engine/routes', []), engine.port, LAN);
    const after = await eventually(() => status(client, engine.port), (v) => v.osc.deniedPackets === 5, 'five packets denied');
    assert.equal(after.lastMessage, '/engine/status', 'none of them was dispatched');
    // Loopback is answered (and any reply to the LAN sender would have been sent before this one).
    await client.request(HOST, engine.port, '/engine/routes', [], { replyAddress: '/engine/routes', timeoutMs: 5000 });
    assert.equal(answered, 0, 'the refused sender got no reply');
  });
});

/**
 * OSC transport and client: real UDP sockets, liblo's `oscsend`/`oscdump` as the external peer,
 * bundles and time tags, split JSON replies, and 100,000 fuzzed packets.
 *
 * Every test binds its own ports (0 = any free port) and registers the cleanup of every socket and
 * child process it starts with `t.after`, so nothing leaks even when an assertion fails.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import osc from 'osc';
import type { OscWriteArg, OscWriteBundle, OscWriteMessage } from 'osc';
import {
  OscTransport,
  OscTransportError,
  decodePacket,
  encodeJsonReply,
  encodeMessage,
  ntpToMs,
  splitUtf8,
  type IncomingMessage,
  type OscTransportOptions,
  type OscValue,
  type Remote,
} from '../kernel/osc/osc-transport.ts';
import { OscClient, OscClientError } from '../cli/osc-client.ts';
import { hasLiblo, oscsend, startOscdump, PROBE_ADDRESS, type Oscdump } from './helpers/liblo.ts';

const LOCALHOST = '127.0.0.1';
const noLiblo = hasLiblo() ? false : 'liblo-tools not installed (apt-get install -y liblo-tools)';

// ───────────────────────────── fixtures ─────────────────────────────

async function openTransport(t: TestContext, options: Partial<OscTransportOptions> = {}): Promise<OscTransport> {
  const transport = await OscTransport.open({ host: LOCALHOST, port: 0, ...options });
  t.after(() => transport.close());
  return transport;
}

async function openClient(t: TestContext): Promise<OscClient> {
  const client = await OscClient.open();
  t.after(() => client.close());
  return client;
}

interface BadPacket {
  remote: Remote;
  reason: string;
  bytes: number;
}

/** Records what a transport delivers; `until` waits (bounded) for a condition on it. */
function collect(transport: OscTransport) {
  const messages: IncomingMessage[] = [];
  const bad: BadPacket[] = [];
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  transport.onMessage = (msg) => {
    messages.push(msg);
    notify();
  };
  transport.onBadPacket = (remote, reason, bytes) => {
    bad.push({ remote, reason, bytes });
    notify();
  };
  const until = (condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; messages: ${JSON.stringify(messages.map((m) => m.address))}, bad: ${JSON.stringify(bad.map((b) => b.reason))}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { messages, bad, until };
}

/** A plain UDP socket that records every datagram it receives. */
async function openRawSocket(t: TestContext) {
  const socket = dgram.createSocket('udp4');
  const datagrams: Buffer[] = [];
  const listeners = new Set<() => void>();
  socket.on('message', (data) => {
    datagrams.push(data);
    for (const listener of listeners) listener();
  });
  await new Promise<void>((resolve) => socket.bind(0, LOCALHOST, resolve));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const send = (port: number, bytes: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => socket.send(bytes, port, LOCALHOST, (err) => (err ? reject(err) : resolve())));
  const until = (n: number, timeoutMs = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (datagrams.length < n) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${n} datagrams, got ${datagrams.length}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { socket, port: socket.address().port, datagrams, send, until };
}

async function oscdumpFor(t: TestContext): Promise<Oscdump> {
  const dump = await startOscdump();
  t.after(() => dump.close());
  return dump;
}

const bundleBytes = (bundle: OscWriteBundle): Uint8Array => osc.writePacket(bundle, { metadata: true });
const msg = (address: string, args: OscWriteArg[] = []): OscWriteMessage => ({ address, args });
/** Independent NTP → Unix ms conversion, to check the transport against. */
const ntpMs = ([secs, frac]: [number, number]): number => (secs - 2208988800) * 1000 + (frac * 1000) / 2 ** 32;

// ───────────────────────────── receiving from liblo ─────────────────────────────

describe('receiving from liblo oscsend', { skip: noLiblo }, () => {
  test('float argument: /mod/voice1/freq f 220', async (t) => {
    const transport = await openTransport(t);
    const got = collect(transport);
    await oscsend('localhost', transport.port, '/mod/voice1/freq', 'f', 220);
    await got.until(() => got.messages.length === 1, 'one message');
    const [m] = got.messages as [IncomingMessage];
    assert.equal(m.address, '/mod/voice1/freq');
    assert.deepEqual(m.args, [220]);
    assert.equal(m.typeTags, 'f');
    assert.equal(m.timetag, null);
    assert.equal(m.remote.address, '127.0.0.1');
    assert.ok(Number.isInteger(m.remote.port) && m.remote.port > 0 && m.remote.port !== transport.port);
    assert.equal(transport.stats.handlerErrors, 0);
  });

  test('int argument: /gate/voice1 i 1 — numbers are numbers, the tag says which', async (t) => {
    const transport = await openTransport(t);
    const got = collect(transport);
    await oscsend('localhost', transport.port, '/gate/voice1', 'i', 1);
    await got.until(() => got.messages.length === 1, 'one message');
    assert.deepEqual(got.messages[0]?.args, [1]);
    assert.equal(got.messages[0]?.typeTags, 'i');
  });

  test('strings (spaces, UTF-8) and every scalar type liblo sends', async (t) => {
    const transport = await openTransport(t);
    const got = collect(transport);
    await oscsend('localhost', transport.port, '/seq/add', 'sssf', 'track1', 'voice1', 'X...x...', 110.5);
    await oscsend('localhost', transport.port, '/engine/record/start', 's', 'my take ♪ é');
    await oscsend('localhost', transport.port, '/types', 'ihfdsScTFN', -7, 1234567890123, 0.25, 2.5, 'str', 'sym', 'z');
    await got.until(() => got.messages.length === 3, 'three messages');
    const [seq, rec, types] = got.messages as [IncomingMessage, IncomingMessage, IncomingMessage];
    assert.deepEqual(seq.args, ['track1', 'voice1', 'X...x...', 110.5]);
    assert.equal(seq.typeTags, 'sssf');
    assert.deepEqual(rec.args, ['my take ♪ é']);
    assert.equal(types.typeTags, 'ihfdsScTFN');
    assert.deepEqual(types.args, [-7, 1234567890123, 0.25, 2.5, 'str', 'sym', 'z', true, false, null]);
    assert.equal(got.bad.length, 0);
  });

  test('message without arguments', async (t) => {
    const transport = await openTransport(t);
    const got = collect(transport);
    await oscsend('localhost', transport.port, '/engine/status');
    await got.until(() => got.messages.length === 1, 'one message');
    assert.deepEqual(got.messages[0]?.args, []);
    assert.equal(got.messages[0]?.typeTags, '');
  });
});

describe('receiving lists, bundles and time tags', () => {
  test('a list wrapper stays an array: [440] vs 440', async (t) => {
    const transport = await openTransport(t);
    const client = await openClient(t);
    const got = collect(transport);
    client.send(LOCALHOST, transport.port, '/mod/voice1/freq', [[440]]);
    client.send(LOCALHOST, transport.port, '/mod/voice1/freq', [440]);
    client.send(LOCALHOST, transport.port, '/mixed', [{ type: 'i', value: 1 }, [2, 'x', true], 'y']);
    await got.until(() => got.messages.length === 3, 'three messages');
    assert.deepEqual(got.messages.map((m) => [m.args, m.typeTags]), [
      [[[440]], '[f]'],
      [[440], 'f'],
      [[1, [2, 'x', true], 'y'], 'i[fsT]s'],
    ]);
  });

  test('bundle with a future raw NTP time tag: every message carries it (≤ 1 ms of the NTP value)', async (t) => {
    const transport = await openTransport(t);
    const client = await openClient(t);
    const got = collect(transport);
    const tag = osc.timeTag(2); // 2 s from now, raw NTP
    const sentAt = Date.now();
    client.sendRaw(LOCALHOST, transport.port, bundleBytes({
      timeTag: tag,
      packets: [msg('/gate/voice1', [{ type: 'i', value: 1 }]), msg('/mod/voice1/freq', [{ type: 'f', value: 330 }])],
    }));
    await got.until(() => got.messages.length === 2, 'two messages');
    const expected = ntpMs(tag.raw);
    for (const m of got.messages) {
      assert.ok(m.timetag !== null && Math.abs(m.timetag - expected) <= 1, `timetag ${m.timetag} vs ${expected}`);
      assert.ok(Math.abs((m.timetag ?? 0) - (sentAt + 2000)) < 500, 'about 2 s ahead of the wall clock');
    }
    assert.deepEqual(got.messages.map((m) => m.address), ['/gate/voice1', '/mod/voice1/freq']);
  });

  test('bundle with a JS-ms time tag round-trips within 1 ms; "immediately" → null', async (t) => {
    const transport = await openTransport(t);
    const client = await openClient(t);
    const got = collect(transport);
    const when = Date.now() + 1500.25;
    client.sendRaw(LOCALHOST, transport.port, bundleBytes({ timeTag: { native: when }, packets: [msg('/a')] }));
    client.sendRaw(LOCALHOST, transport.port, bundleBytes({ timeTag: { raw: [0, 1] }, packets: [msg('/b')] }));
    await got.until(() => got.messages.length === 2, 'two messages');
    const [a, b] = got.messages as [IncomingMessage, IncomingMessage];
    assert.ok(a.timetag !== null && Math.abs(a.timetag - when) < 1, `timetag ${a.timetag} vs ${when}`);
    assert.equal(b.timetag, null);
  });

  test('nested bundles: inner time overrides, inner "immediately" inherits, earlier inner is raised', async (t) => {
    const transport = await openTransport(t);
    const client = await openClient(t);
    const got = collect(transport);
    const outer = osc.timeTag(1);
    const later = osc.timeTag(1.5);
    const earlier = osc.timeTag(0.2);
    client.sendRaw(LOCALHOST, transport.port, bundleBytes({
      timeTag: outer,
      packets: [
        msg('/outer'),
        { timeTag: later, packets: [msg('/later'), { timeTag: { raw: [0, 1] }, packets: [msg('/later/immediate')] }] },
        { timeTag: { raw: [0, 1] }, packets: [msg('/immediate')] },
        { timeTag: earlier, packets: [msg('/earlier')] },
        msg('/outer/last'),
      ],
    }));
    await got.until(() => got.messages.length === 6, 'six messages');
    const times = Object.fromEntries(got.messages.map((m) => [m.address, m.timetag]));
    const near = (actual: number | null | undefined, expected: number, what: string): void =>
      assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= 1, `${what}: ${actual} vs ${expected}`);
    near(times['/outer'], ntpMs(outer.raw), 'outer');
    near(times['/later'], ntpMs(later.raw), 'inner override');
    near(times['/later/immediate'], ntpMs(later.raw), 'immediate inside inner inherits inner');
    near(times['/immediate'], ntpMs(outer.raw), 'immediate inherits outer');
    near(times['/earlier'], ntpMs(outer.raw), 'earlier than enclosing is raised to it');
    near(times['/outer/last'], ntpMs(outer.raw), 'outer after nested');
    assert.deepEqual(got.messages.map((m) => m.address),
      ['/outer', '/later', '/later/immediate', '/immediate', '/earlier', '/outer/last'], 'packet order kept');
  });

  test('a bundle with one bad element is refused whole; an empty bundle is fine', async (t) => {
    const transport = await openTransport(t);
    const client = await openClient(t);
    const got = collect(transport);
    const good = bundleBytes({ timeTag: osc.timeTag(1), packets: [msg('/a'), msg('/b')] });
    const broken = new Uint8Array(good);
    new DataView(broken.buffer).setInt32(16, 9999); // first element claims 9999 bytes
    client.sendRaw(LOCALHOST, transport.port, broken);
    client.sendRaw(LOCALHOST, transport.port, bundleBytes({ timeTag: osc.timeTag(1), packets: [] }));
    client.send(LOCALHOST, transport.port, '/after');
    await got.until(() => got.messages.length === 1 && got.bad.length === 1, 'one message and one bad packet');
    assert.equal(got.messages[0]?.address, '/after');
    assert.match(got.bad[0]?.reason ?? '', /bundle element at byte 16 has invalid size 9999/);
    assert.equal(transport.stats.packets, 3);
    assert.equal(transport.stats.okPackets, 2);
  });
});

// ───────────────────────────── bad packets ─────────────────────────────

describe('bad packets', () => {
  test('are reported with sender, reason and size; the transport keeps going', async (t) => {
    const transport = await openTransport(t);
    const raw = await openRawSocket(t);
    const got = collect(transport);
    const valid = encodeMessage('/mod/voice1/freq', [{ type: 'f', value: 1 }]);
    const withTags = (tags: string): Uint8Array => {
      const bytes = encodeMessage('/x', ['abc']);
      bytes.set(Buffer.from(tags), 4); // "/x\0\0" then ",s\0\0"
      return bytes;
    };
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /empty packet/],
      [new Uint8Array([1, 2, 3]), /not a multiple of 4/],
      [Buffer.from('hello world!'), /must start with "\/" .* or "#bundle"/],
      [valid.subarray(0, valid.length - 4), /run past the end|malformed/],
      [Buffer.concat([valid, Buffer.alloc(4)]), /unread bytes/],
      [withTags(',q\0\0'), /unknown OSC type tag "q"/],
      [withTags(',[[\0'), /nested OSC lists|unclosed/],
      [withTags(',]\0\0'), /unbalanced "\]"/],
      [Buffer.from('/abcdefg'), /address is not NUL-terminated/],
      [Buffer.from('#bundle\0\0\0\0\0'), /bundle shorter than its 16-byte header/],
    ];
    for (const [bytes] of cases) await raw.send(transport.port, bytes);
    await got.until(() => got.bad.length === cases.length, `${cases.length} bad packets`);
    cases.forEach(([bytes, pattern], i) => {
      const bad = got.bad[i] as BadPacket;
      assert.match(bad.reason, pattern, `case ${i}`);
      assert.equal(bad.bytes, bytes.length);
      assert.deepEqual(bad.remote, { address: LOCALHOST, port: raw.port });
    });
    await raw.send(transport.port, valid);
    await got.until(() => got.messages.length === 1, 'the valid message after them');
    assert.equal(transport.stats.badPackets, cases.length);
  });

  test('hostile type tag strings are cheap to refuse or decode (osc.js list parsing is quadratic)', () => {
    const withTags = (tags: string, payload = 0): Uint8Array => {
      const head = Buffer.from(`/x\0\0,${tags}\0`);
      return new Uint8Array(Buffer.concat([head, Buffer.alloc((4 - (head.length % 4)) % 4), Buffer.alloc(payload)]));
    };
    const remote = { address: LOCALHOST, port: 1 };
    const lists = decodePacket(withTags('[]'.repeat(30_000)), remote); // took 10 s in osc.js unguarded
    assert.ok(!lists.ok && /more than 32 OSC lists/.test(lists.reason));
    const many = decodePacket(withTags('[N]'.repeat(32) + 'N'.repeat(60_000)), remote);
    assert.ok(many.ok && many.messages[0]?.args.length === 32 + 60_000);
    const long = decodePacket(withTags('q'.repeat(60_000)), remote);
    assert.ok(!long.ok && long.reason.length <= 200);
  });

  test('a throwing handler is contained and reported', async (t) => {
    const transport = await OscTransport.open({ host: LOCALHOST, port: 0 });
    t.after(() => transport.close());
    const errors: Error[] = [];
    transport.onError = (err) => errors.push(err);
    let calls = 0;
    transport.onMessage = () => {
      calls++;
      throw new Error('router bug');
    };
    const raw = await openRawSocket(t);
    await raw.send(transport.port, encodeMessage('/a', []));
    await raw.send(transport.port, encodeMessage('/b', []));
    const deadline = Date.now() + 5000;
    while (calls < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(calls, 2);
    assert.equal(transport.stats.handlerErrors, 2);
    assert.deepEqual(errors.map((e) => e.message), ['router bug', 'router bug']);
  });
});

// ───────────────────────────── sending to liblo ─────────────────────────────

describe('sending to liblo oscdump', { skip: noLiblo }, () => {
  test('type tags: explicit i, inferred f/s/T/F/N/b', async (t) => {
    const transport = await openTransport(t);
    const dump = await oscdumpFor(t);
    const to = { address: LOCALHOST, port: dump.port };
    transport.send(to, '/engine/record/stopped', ['recordings/take 1.wav', { type: 'i', value: 48000 }]);
    transport.send(to, '/reply', [{ type: 'i', value: 42 }, 3.5, 'hello world', { type: 'f', value: 2 }, { type: 'i', value: -7 }, true, false, null, new Uint8Array([1, 2, 255])]);
    const stopped = await dump.waitFor((l) => l.address === '/engine/record/stopped');
    assert.equal(stopped.types, 'si');
    assert.deepEqual(stopped.args, ['recordings/take 1.wav', 48000]);
    const reply = await dump.waitFor((l) => l.address === '/reply');
    assert.equal(reply.types, 'ifsfiTFNb');
    assert.deepEqual(reply.args, [42, 3.5, 'hello world', 2, -7, true, false, null, [1, 2, 255]]);
    assert.match(reply.raw, / 42 3\.500000 "hello world" 2\.000000 -7 /);
    assert.equal(dump.lines.filter((l) => l.address !== PROBE_ADDRESS).length, 2);
  });

  test('sendJson: one message when it fits, "address ...prefix index count chunk" parts when not', async (t) => {
    const transport = await openTransport(t, { maxPacketBytes: 512 });
    const dump = await oscdumpFor(t);
    const to = { address: LOCALHOST, port: dump.port };
    assert.equal(transport.sendJson(to, '/engine/status', { running: true }), 1);
    const big = { routes: Array.from({ length: 40 }, (_, i) => `/mod/voice${i}/filter/freq`) };
    const parts = transport.sendJson(to, '/engine/routes', big, ['json']);
    assert.ok(parts >= 3, `split into ${parts} parts`);
    const single = await dump.waitFor((l) => l.address === '/engine/status');
    assert.equal(single.types, 's');
    assert.deepEqual(single.args, ['{"running":true}']);
    const lines = await dump.waitForCount((l) => l.address === '/engine/routes', parts);
    assert.ok(lines.every((l) => l.types === 'siis'));
    assert.deepEqual(lines.map((l) => l.args.slice(0, 3)), Array.from({ length: parts }, (_, i) => ['json', i, parts]));
    assert.deepEqual(JSON.parse(lines.map((l) => l.args[3]).join('')), big);
  });
});

describe('send argument checks', () => {
  test('invalid arguments throw coded errors before anything is sent', async (t) => {
    const transport = await openTransport(t, { maxPacketBytes: 128 });
    const to = { address: LOCALHOST, port: 9 };
    const code = (c: string) => (err: unknown) => err instanceof OscTransportError && err.code === c;
    assert.throws(() => transport.send(to, '/x', [{ type: 'i', value: 1.5 }]), code('OSC_ARG_INVALID'));
    assert.throws(() => transport.send(to, '/x', [{ type: 'i', value: 2 ** 31 }]), code('OSC_ARG_INVALID'));
    assert.throws(() => transport.send(to, '/x', ['a\0b']), code('OSC_ARG_INVALID'));
    assert.throws(() => transport.send(to, '/x', [undefined as unknown as OscValue]), code('OSC_ARG_INVALID'));
    assert.throws(() => transport.send(to, 'no-slash', []), code('OSC_ADDRESS_INVALID'));
    assert.throws(() => transport.send(to, '/x', ['y'.repeat(200)]), code('OSC_PACKET_TOO_BIG'));
    assert.throws(() => transport.sendJson(to, '/x', 1n), code('OSC_JSON_UNSERIALIZABLE'));
    assert.throws(() => transport.sendJson(to, '/x', {}, [{ type: 'i', value: 1 }, { type: 'i', value: 2 }]), code('OSC_JSON_PREFIX_AMBIGUOUS'));
    assert.equal(transport.stats.sent, 0);
  });

  test('open() refuses a taken port and bad options with coded errors', async (t) => {
    const transport = await openTransport(t);
    await assert.rejects(OscTransport.open({ host: LOCALHOST, port: transport.port }), /OSC_BIND_FAILED/);
    await assert.rejects(OscTransport.open({ port: 0, maxPacketBytes: 10 }), /OSC_OPTIONS_INVALID/);
    await assert.rejects(OscTransport.open({ port: -1 }), /OSC_OPTIONS_INVALID/);
  });
});

// ───────────────────────────── JSON replies and the client ─────────────────────────────

describe('split JSON replies', () => {
  test('encodeJsonReply: every part fits, chunks rejoin to the JSON, never cut inside a character', () => {
    const value = { text: 'héllo ♪ 😀 '.repeat(200), list: Array.from({ length: 100 }, (_, i) => i * 1.5) };
    const json = JSON.stringify(value);
    for (const max of [64, 100, 512, 1000]) {
      const packets = encodeJsonReply('/engine/schema', value, ['json'], max);
      assert.ok(packets.length >= 2);
      const chunks: string[] = [];
      packets.forEach((bytes, i) => {
        assert.ok(bytes.length <= max, `part ${i} is ${bytes.length} > ${max}`);
        const decoded = decodePacket(bytes, { address: LOCALHOST, port: 1 });
        assert.ok(decoded.ok);
        const [m] = decoded.messages as [IncomingMessage];
        assert.equal(m.typeTags, 'siis');
        assert.deepEqual(m.args.slice(0, 3), ['json', i, packets.length]);
        chunks.push(m.args[3] as string);
      });
      assert.equal(chunks.join(''), json);
      assert.ok(chunks.every((c) => c.length > 0 && !/[\uD800-\uDBFF]$/.test(c)));
    }
    assert.equal(encodeJsonReply('/x', { a: 1 }, [], 64).length, 1, 'a single message when it fits');
    assert.deepEqual(splitUtf8('a😀b', 4), ['a', '😀', 'b']);
    assert.deepEqual(splitUtf8('', 4), ['']);
  });

  test('a 512-byte transport splits a big reply; OscClient.request reassembles it', async (t) => {
    const transport = await openTransport(t, { maxPacketBytes: 512 });
    const client = await openClient(t);
    const raw = await openRawSocket(t);
    const schema = {
      modules: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`voice${i + 1}`, {
        plugin: 'voices', params: { freq: { min: 20, max: 5000, default: 440, unit: 'Hz' }, 'filter/freq': { min: 50, max: 8000 } },
        description: 'polyphonic voice — sine/saw/square ♪',
      }])),
    };
    transport.onMessage = (m) => {
      if (m.address === '/engine/schema') transport.sendJson(m.remote, '/engine/schema', schema, ['json']);
    };
    const reply = await client.request(LOCALHOST, transport.port, '/engine/schema', ['json'], { replyAddress: '/engine/schema', timeoutMs: 5000 });
    assert.deepEqual(reply.json, schema);
    assert.ok(reply.parts > 5, `${reply.parts} parts`);
    assert.equal(reply.typeTags, 'ss');
    assert.equal(reply.args[0], 'json');
    // The same reply seen raw: every datagram ≤ 512 bytes.
    const parts = transport.sendJson({ address: LOCALHOST, port: raw.port }, '/engine/schema', schema, ['json']);
    await raw.until(parts);
    assert.ok(raw.datagrams.every((d) => d.length <= 512), `sizes ${raw.datagrams.map((d) => d.length)}`);
  });

  test('the client reassembles parts arriving out of order and duplicated', async (t) => {
    const server = await openTransport(t, { maxPacketBytes: 128 });
    const client = await openClient(t);
    const value = { list: Array.from({ length: 50 }, (_, i) => `item${i}`) };
    const packets = encodeJsonReply('/pattern/list', value, [], 128);
    assert.ok(packets.length >= 4);
    const waiting = client.waitFor(LOCALHOST, server.port, { replyAddress: /^\/pattern\//, timeoutMs: 5000 });
    const to = { address: LOCALHOST, port: client.port };
    for (const bytes of [...packets].reverse()) server.sendRaw(to, bytes);
    server.sendRaw(to, packets[0] as Uint8Array);
    const reply = await waiting;
    assert.deepEqual(reply.json, value);
    assert.equal(reply.parts, packets.length);
  });

  test('request times out with a coded error when nothing answers', async (t) => {
    const client = await openClient(t);
    const silent = await openTransport(t);
    collect(silent);
    await assert.rejects(
      client.request(LOCALHOST, silent.port, '/engine/status', [], { timeoutMs: 150 }),
      (err: unknown) => err instanceof OscClientError && err.code === 'OSC_REQUEST_TIMEOUT',
    );
  });
});

// ───────────────────────────── fuzz ─────────────────────────────

/** mulberry32: small, seedable, good enough for fuzzing. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function makeFuzzer(seed: number) {
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const text = (n: number): string => Array.from({ length: n }, () => pick(['a', 'Z', '/', ' ', 'é', '♪', '😀', '#', ',', '0'])).join('');

  const scalar = (): OscWriteArg => {
    switch (int(15)) {
      case 0: return { type: 'i', value: (int(2 ** 32) | 0) };
      case 1: return { type: 'f', value: (rand() - 0.5) * 1e6 };
      case 2: return { type: 'd', value: (rand() - 0.5) * 1e12 };
      case 3: return { type: 's', value: text(int(12)) };
      case 4: return { type: 'S', value: text(int(6)) };
      case 5: return { type: 'b', value: bytes(int(20)) };
      case 6: return { type: 'h', value: { high: int(2 ** 32) | 0, low: int(2 ** 32) | 0 } };
      case 7: return { type: 't', value: { raw: [int(2 ** 32), int(2 ** 32)] } };
      case 8: return { type: 'c', value: pick(['a', 'z', '!']) };
      case 9: return { type: 'r', value: { r: int(256), g: int(256), b: int(256), a: rand() } };
      case 10: return { type: 'm', value: bytes(4) };
      default: return { type: pick(['T', 'F', 'N', 'I'] as const) };
    }
  };
  const message = (): OscWriteMessage => ({
    address: `/${text(1 + int(10))}`,
    args: Array.from({ length: int(6) }, () => (int(8) === 0 ? Array.from({ length: int(4) }, scalar) : scalar())),
  });
  const bundle = (depth: number): OscWriteBundle => ({
    timeTag: int(4) === 0 ? { raw: [0, 1] } : { raw: [int(2 ** 32), int(2 ** 32)] },
    packets: Array.from({ length: int(4) }, () => (depth < 3 && int(3) === 0 ? bundle(depth + 1) : message())),
  });
  const valid = (): Uint8Array => osc.writePacket(int(3) === 0 ? bundle(0) : message(), { metadata: true });

  const mutate = (input: Uint8Array): Uint8Array => {
    let b: Uint8Array = new Uint8Array(input);
    const aligned = (): number => 4 * int(Math.max(1, b.length >> 2));
    switch (int(9)) {
      case 0: // flip a few bytes
        for (let k = 1 + int(4); k > 0 && b.length > 0; k--) b[int(b.length)] = int(256);
        break;
      case 1: // truncate anywhere
        b = b.subarray(0, int(b.length + 1));
        break;
      case 2: // truncate to a multiple of 4
        b = b.subarray(0, aligned());
        break;
      case 3: // append aligned junk
        b = Uint8Array.from([...b, ...bytes(4 * (1 + int(8)))]);
        break;
      case 4: { // nasty int32 at an aligned offset (hits element sizes, blob lengths, string bytes)
        if (b.length >= 4) {
          const nasty = pick([0, -1, -4, 4, 0x7fffffff, -0x80000000, b.length, b.length + 4, int(2 ** 32) | 0]);
          new DataView(b.buffer, b.byteOffset).setInt32(aligned() % (b.length - 3 || 1), nasty);
        }
        break;
      }
      case 5: { // scramble a type tag
        const comma = b.indexOf(0x2c);
        if (comma >= 0 && comma + 1 < b.length) b[comma + 1 + int(Math.min(4, b.length - comma - 1))] = pick([...'ifsSbhdtcrmTFNI[]xq\0'].map((c) => c.charCodeAt(0)));
        break;
      }
      case 6: // splice with another valid packet
        b = Uint8Array.from([...b.subarray(0, aligned()), ...valid().subarray(aligned() % 8)]);
        break;
      case 7: { // insert or delete 4 bytes at an aligned position
        const at = aligned();
        b = int(2) === 0 ? Uint8Array.from([...b.subarray(0, at), ...bytes(4), ...b.subarray(at)])
          : Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 4)]);
        break;
      }
      default: // bundle header in front
        b = Uint8Array.from([...Buffer.from('#bundle\0'), ...bytes(8), ...b]);
    }
    return b;
  };

  const random = (): Uint8Array => {
    const body = bytes(int(4) === 0 ? int(300) : 4 * int(75));
    switch (int(4)) {
      case 0: if (body.length > 0) body[0] = 0x2f; break; // "/…"
      case 1: body.set(Buffer.from('#bundle\0').subarray(0, Math.min(8, body.length))); break;
      default: break;
    }
    return body;
  };

  /** One fuzz packet: 10 % valid, 60 % mutated-valid, 30 % random. */
  return (): Uint8Array => {
    const r = rand();
    return r < 0.1 ? valid() : r < 0.7 ? mutate(valid()) : random();
  };
}

function isOscValue(v: unknown): v is OscValue {
  return v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ||
    v instanceof Uint8Array || (Array.isArray(v) && v.every(isOscValue));
}

describe('fuzz', () => {
  test('100,000 random and mutated packets: never throws, each is a message or a bad packet', async (t) => {
    const SEED = 0xc405;
    const TOTAL = 100_000;
    const THROUGH_SOCKET = 5_000;
    const BATCH = 100;
    const next = makeFuzzer(SEED);
    const remote = { address: LOCALHOST, port: 1 };
    const tally = { ok: 0, bad: 0, messages: 0, throws: 0 };
    const classify = (bytes: Uint8Array): { ok: boolean; messages: number } => {
      let result;
      try {
        result = decodePacket(bytes, remote);
      } catch {
        tally.throws++;
        return { ok: false, messages: 0 };
      }
      if (result.ok) {
        for (const m of result.messages) {
          assert.ok(m.address.startsWith('/'), 'address starts with /');
          assert.ok(m.args.every(isOscValue), 'args are OscValues');
          assert.ok(m.timetag === null || Number.isFinite(m.timetag), 'timetag is null or finite');
        }
        return { ok: true, messages: result.messages.length };
      }
      assert.ok(typeof result.reason === 'string' && result.reason.length > 0 && result.reason.length <= 200);
      return { ok: false, messages: 0 };
    };

    // In process: the decode path directly.
    const started = performance.now();
    for (let i = 0; i < TOTAL - THROUGH_SOCKET; i++) {
      const c = classify(next());
      if (c.ok) tally.ok++;
      else tally.bad++;
      tally.messages += c.messages;
    }
    const inProcessMs = performance.now() - started;

    // Through the real socket, in batches the receive buffer can hold; expected counts come from
    // decoding the same bytes in process.
    const transport = await openTransport(t, { recvBufferSize: 1 << 20 });
    const got = { messages: 0, bad: 0, badFromOthers: 0 };
    const raw = await openRawSocket(t);
    transport.onMessage = (m) => {
      got.messages++;
      if (m.address === '/ping') transport.send(m.remote, '/pong', [{ type: 'i', value: got.messages }]);
    };
    transport.onBadPacket = (from) => {
      got.bad++;
      if (from.port !== raw.port) got.badFromOthers++;
    };
    const expected = { ok: 0, bad: 0, messages: 0 };
    const socketStarted = performance.now();
    for (let sent = 0; sent < THROUGH_SOCKET;) {
      for (let k = 0; k < BATCH; k++, sent++) {
        const bytes = sent === 0 ? new Uint8Array(0) : next();
        const c = classify(bytes);
        if (c.ok) expected.ok++;
        else expected.bad++;
        expected.messages += c.messages;
        await raw.send(transport.port, bytes);
      }
      const deadline = Date.now() + 10_000;
      while (transport.stats.packets < sent && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.equal(transport.stats.packets, sent, `all ${sent} datagrams received`);
    }
    const socketMs = performance.now() - socketStarted;

    assert.equal(tally.throws, 0, 'decodePacket never threw');
    assert.equal(transport.stats.okPackets, expected.ok);
    assert.equal(transport.stats.badPackets, expected.bad);
    assert.equal(transport.stats.packets, transport.stats.okPackets + transport.stats.badPackets);
    assert.equal(got.messages, expected.messages);
    assert.equal(got.bad, expected.bad);
    assert.equal(got.badFromOthers, 0);
    assert.equal(transport.stats.handlerErrors, 0);
    assert.ok(tally.ok > 1000 && tally.bad > 1000, `both outcomes exercised: ${JSON.stringify(tally)}`);

    // Still answering afterwards.
    const client = await openClient(t);
    const pong = await client.request(LOCALHOST, transport.port, '/ping', [], { replyAddress: '/pong', timeoutMs: 5000 });
    assert.equal(pong.typeTags, 'i');

    const total = tally.ok + tally.bad + expected.ok + expected.bad;
    assert.equal(total, TOTAL);
    t.diagnostic(`seed ${SEED}: ${total} packets — in process ${TOTAL - THROUGH_SOCKET} (${tally.ok} ok → ${tally.messages} messages, ${tally.bad} bad) in ${inProcessMs.toFixed(0)} ms; ` +
      `through the socket ${THROUGH_SOCKET} (${expected.ok} ok → ${expected.messages} messages, ${expected.bad} bad) in ${socketMs.toFixed(0)} ms; 0 throws`);
  });
});

test('ntpToMs: "immediately" is null, the epoch offset is 2208988800 s', () => {
  assert.equal(ntpToMs(0, 1), null);
  assert.equal(ntpToMs(2208988800, 0), 0);
  assert.equal(ntpToMs(2208988801, 2 ** 31), 1500);
});

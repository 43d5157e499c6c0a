/**
 * Every route's error path, fuzzed over real UDP (seeded and bounded: ~1,500 messages): for every
 * address /engine/routes lists (parameters, gates, sequencer, patterns, recording, engine, and the
 * old aliases), long strings (60,000 characters), control characters, wrong types, wrong counts,
 * NULs inside a string (a malformed packet) and over-long addresses. The engine process stays
 * alive and rendering, nothing reaches the last-resort handler, and every counted error was
 * answered with an /error that fits a datagram and quotes at most ~200 characters of the input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OscClient } from '../cli/osc-client.ts';
import { encodeMessage, type OscSendArg } from '../kernel/osc/osc-transport.ts';
import { makeRoot, startEngineProcess, type EngineProcess } from './helpers/engine-process.ts';
import { assertBoundedError, consonants, eventually, framesAdvancePast, greekWithControls, HOST, rng, status } from './helpers/containment.ts';

/** A message with a NUL inside its one string argument (not encodable by a well-behaved client). */
function nulInsideString(address: string, text: string): Uint8Array {
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
  return Buffer.concat([pad(Buffer.from(address)), pad(Buffer.from(',s')), pad(Buffer.from(text, 'latin1'))]);
}

/** An address for every route: aliases ending in "*" get a parameter of the module they stand for. */
function concreteAddresses(routes: { address: string; description: string }[]): string[] {
  return routes.map((r) => {
    if (!r.address.endsWith('*')) return r.address;
    const prefix = r.description.replace(/^alias of /, '').replace(/\*$/, '');
    const target = routes.find((x) => x.address.startsWith(prefix) && !x.address.endsWith('*'));
    return r.address.replace(/\*$/, target ? target.address.slice(prefix.length) : 'freq');
  });
}

test('fuzzing every route: the engine lives and renders, and every error is answered, bounded', async (t) => {
  const root = await makeRoot();
  let engine: EngineProcess | undefined;
  // One hook, in order: the engine stops before its folder goes.
  t.after(async () => {
    await engine?.stop();
    await rm(root, { recursive: true, force: true });
  });
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ plugins: { recorder: { enabled: true } } }));
  engine = await startEngineProcess({ root });
  const client = await OscClient.open();
  t.after(() => client.close());
  const port = engine.port;

  const rand = rng(0xf022);
  const long = consonants(60_000, rand);
  const controls = greekWithControls(20_000, rand);
  const errors: unknown[][] = [];
  client.onMessage = (m) => {
    if (m.address === '/error') errors.push([...m.args]);
  };

  const routes = (await client.request(HOST, port, '/engine/routes', [], { replyAddress: '/engine/routes', timeoutMs: 5000 })).json as { address: string; description: string }[];
  const addresses = concreteAddresses(routes);
  for (const family of ['/mod/', '/gate/', '/seq/', '/pattern/', '/engine/record/', '/engine/']) {
    assert.ok(addresses.some((a) => a.startsWith(family)), `routes under ${family}`);
  }

  /** Each variant: raw bytes of one datagram. */
  const variants = (address: string): Uint8Array[] => {
    const m = (args: OscSendArg[], to = address) => encodeMessage(to, args);
    return [
      m([long]),
      m([controls]),
      m([{ type: 'i', value: 1 }, long]),
      m([new Uint8Array(64)]),
      m(Array.from({ length: 40 }, () => rand() * 1e6)),
      m([true, null]),
      nulInsideString(address, `ab\0cd\0${consonants(37, rand)}`),
      m([1], `${address}/${long.slice(0, 60_000 - address.length)}`),
      m([1], `${address}\u0001\u0007\u001b[2J`),
    ];
  };

  const before = await status(client, port);
  const packets = addresses.flatMap(variants);
  // The engine handles each batch before the next is sent: a batch stays well inside the receive
  // buffer the OS granted (a machine with a small net.core.rmem_max gets smaller batches).
  const budget = Math.max(1, (before.osc.recvBufferBytes ?? 0) / 8);
  const started = performance.now();
  let sent = 0;
  while (sent < packets.length) {
    let bytes = 0;
    let n = 0;
    while (sent + n < packets.length && n < 40 && (n === 0 || bytes + packets[sent + n].length <= budget)) bytes += packets[sent + n++].length;
    for (const p of packets.slice(sent, sent + n)) client.sendRaw(HOST, port, p);
    sent += n;
    await eventually(
      () => status(client, port),
      (s) => s.messages + s.badPackets >= before.messages + before.badPackets + sent,
      `batch up to ${sent} of ${packets.length}`,
    );
  }
  t.diagnostic(`sent and handled in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  // Asynchronous handlers (recording, patterns, plugin routes) finish; then every error is answered.
  await eventually(() => status(client, port), (s) => s.errors - before.errors === errors.length, 'every counted error answered', 400);
  const after = await framesAdvancePast(client, port, before.framesRendered);
  const counted = after.errors - before.errors;
  t.diagnostic(`${packets.length} packets to ${addresses.length} addresses: ${counted} errors answered; bad packets ${after.badPackets - before.badPackets}, unknown addresses ${after.unknownAddress - before.unknownAddress}, bad arguments ${after.badArgs - before.badArgs}`);
  assert.equal(engine.proc.exitCode, null, 'the process is alive');
  assert.equal(after.uncaughtErrors, 0, `nothing reached the last-resort handler: ${after.lastUncaught}`);
  assert.equal(after.osc.repliesDropped, 0);
  assert.ok(counted >= addresses.length * 6, `most variants are errors (${counted})`);
  assert.equal(errors.length, counted);
  for (const [i, e] of errors.entries()) {
    assertBoundedError(e, `error ${i} (${String(e[0]).slice(0, 40)} ${String(e[1])})`);
    assert.ok(encodeMessage('/error', e as OscSendArg[]).length <= 65_507);
  }
  // Still answering normal requests.
  const list = await client.request(HOST, port, '/engine/list', [], { replyAddress: '/engine/list', timeoutMs: 5000 });
  assert.match(String(list.args[0]), /voice1 \[voices\]/);
});

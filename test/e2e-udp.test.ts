/**
 * End to end over real UDP: a `chronus start` process on the null backend, driven by liblo's
 * `oscsend`, answering our socket, and sending /viz/levels to an `oscdump` listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OscClient } from '../cli/osc-client.ts';
import { hasLiblo, oscsend, startOscdump } from './helpers/liblo.ts';
import { makeRoot, startEngineProcess, type EngineProcess } from './helpers/engine-process.ts';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';

const HOST = '127.0.0.1';

/** /engine/status, asked again if a datagram was lost on the way (UDP). */
async function status(client: OscClient, port: number): Promise<Record<string, number>> {
  for (let attempt = 1; ; attempt++) {
    try {
      const reply = await client.request(HOST, port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 1000 });
      return reply.json as Record<string, number>;
    } catch (e) {
      if (attempt === 10) throw e;
    }
  }
}

/** Ask until `check` passes (the engine applies messages at its next block): bounded, not a sleep. */
async function eventually<T>(ask: () => Promise<T>, check: (v: T) => boolean, what: string, tries = 100): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await ask();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: last answer ${JSON.stringify(last)}`);
}

test('a real engine process plays what oscsend tells it and answers over UDP', { skip: !hasLiblo() && 'liblo-tools not installed' }, async (t) => {
  const dump = await startOscdump();
  t.after(() => dump.close());
  const root = await makeRoot();
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ viz: { port: dump.port, intervalMs: 50, spectrum: 'raw' } }));
  let engine: EngineProcess | undefined;
  // The engine stops before its folder goes (after-hooks run first-registered first).
  t.after(async () => {
    await engine?.stop();
    await rm(root, { recursive: true, force: true });
  });
  engine = await startEngineProcess({ root });
  const client = await OscClient.open();
  t.after(() => client.close());
  const port = engine.port;

  await oscsend(HOST, port, '/mod/voice1/freq', 'f', 220);
  await oscsend(HOST, port, '/mod/voice1/amp', 'i', 1);
  await oscsend(HOST, port, '/gate/voice1', 'i', 1);
  const s = await eventually(() => status(client, port), (v) => v.activeGates === 1 && v.peak > 0.05, 'the gate opens and sound comes out');
  assert.equal(s.backend as unknown, 'null');

  const list = await client.request(HOST, port, '/engine/list', [], { replyAddress: '/engine/list' });
  assert.match(String(list.args[0]), /voice1 \[voices\] gate: freq=220 amp=1 /);

  // The status file and /viz/levels say the same.
  const line = await eventually(() => readFile(path.join(root, 'engine_status.txt'), 'utf8'), (l) => /GATES: 1/.test(l), 'status file shows the gate');
  assert.match(line, /^AUDIO: [\d.]+ \| MSG: \d+ \| GATES: 1 \| REC: --- \| XRUNS: \d+ \| LAST: \S+ \| TIME: \d\d:\d\d:\d\d\n$/);
  const levels = await dump.waitFor((m) => m.address === '/viz/levels' && m.args.some((x) => Number(x) > 0.05));
  assert.ok(levels.types.length >= 2 && /^f+$/.test(levels.types), levels.types);
  // 220 Hz lands in the 150–400 Hz band of the eight (raw bands; the legacy ones are tested in test/compat-old-clients.test.ts).
  const spectrum = await dump.waitFor((m) => m.address === '/viz/spectrum' && Number(m.args[2]) > 0.01);
  assert.equal(spectrum.args.length, 8);
  assert.equal(spectrum.args.map(Number).indexOf(Math.max(...spectrum.args.map(Number))), 2);

  // A typo'd address and a bad argument get /error naming the address.
  const typo = await client.request(HOST, port, '/mod/voice1/frq', [440], { replyAddress: '/error' });
  assert.deepEqual(typo.args.slice(0, 2), ['/mod/voice1/frq', 'OSC_UNKNOWN_ADDRESS']);
  const bad = await client.request(HOST, port, '/mod/voice1/freq', ['high'], { replyAddress: '/error' });
  assert.deepEqual(bad.args.slice(0, 2), ['/mod/voice1/freq', 'OSC_BAD_ARGS']);

  await oscsend(HOST, port, '/gate/voice1', 'i', 0);
  await eventually(() => status(client, port), (v) => v.activeGates === 0, 'the gate closes');
});

test('/engine/schema is a superset of the old engine export', async (t) => {
  const engine = await startEngineProcess();
  t.after(() => engine.stop());
  const client = await OscClient.open();
  t.after(() => client.close());
  const reply = await client.request(HOST, engine.port, '/engine/schema', [], { replyAddress: '/engine/schema', timeoutMs: 5000 });
  const schema = reply.json as { modules: Record<string, { instances?: string[]; params: Record<string, Record<string, unknown>> }> };
  const old = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'test/fixtures/old-engine/music-chronus-schema.json'), 'utf8'));
  assert.deepEqual(schema.modules.voice.instances, ['voice1', 'voice2', 'voice3', 'voice4', 'voice5', 'voice6', 'voice7', 'voice8']);
  for (const [name, p] of Object.entries(old.modules.voice.params as Record<string, { min: number; max: number; default: number }>)) {
    const mine = schema.modules.voice.params[name];
    assert.ok(mine, `voice param ${name}`);
    assert.deepEqual([mine.min, mine.max, mine.default], [p.min, p.max, p.default], name);
    assert.equal(typeof mine.smoothing_ms, 'number');
  }
});

test('100,000 random and malformed packets: the engine keeps rendering and answering, and every well-formed bad message gets /error', async (t) => {
  const engine = await startEngineProcess();
  t.after(() => engine.stop());
  const client = await OscClient.open();
  t.after(() => client.close());
  const port = engine.port;
  let errors = 0;
  client.onMessage = (r) => {
    if (r.address === '/error') errors++;
  };
  const before = await status(client, port);
  let seed = 0x5eed;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const { encodeMessage } = await import('../kernel/osc/osc-transport.ts');
  const valid = encodeMessage('/mod/voice1/freq', [440]);
  let expectedErrors = 0;
  const total = 100_000;
  for (let sent = 0; sent < total; ) {
    const batch = Math.min(100, total - sent);
    for (let i = 0; i < batch; i++) {
      const kind = rand();
      let bytes: Uint8Array;
      if (kind < 0.3) bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
      else if (kind < 0.6) {
        bytes = Uint8Array.from(valid);
        bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      } else if (kind < 0.8) bytes = encodeMessage(`/mod/voice${1 + Math.floor(rand() * 40)}/nope`, [rand()]);
      else bytes = encodeMessage('/mod/voice2/amp', ['loud']);
      client.sendRaw(HOST, port, bytes);
    }
    sent += batch;
    // Wait for the engine to have handled this batch before sending the next (loopback UDP has finite buffers).
    const handled = await eventually(() => status(client, port), (v) => v.messages + v.badPackets >= before.messages + before.badPackets + sent, `batch up to ${sent}`);
    expectedErrors = handled.errors - before.errors;
  }
  const after = await status(client, port);
  assert.ok(after.framesRendered > before.framesRendered, 'still rendering');
  assert.ok(after.messages + after.badPackets - before.messages - before.badPackets >= total, 'every packet was handled');
  // Every unparseable packet, unknown address and bad argument list was answered with an /error
  // (a mutation that happens to leave a valid message is simply applied).
  const wrong = after.badPackets - before.badPackets + (after.unknownAddress - before.unknownAddress) + (after.badArgs - before.badArgs);
  assert.equal(after.errors - before.errors, wrong);
  assert.ok(wrong > 0.7 * total, `most packets were wrong (${wrong})`);
  await eventually(async () => errors, (n) => n >= expectedErrors, 'all /error replies arrived');
  t.diagnostic(`xruns during the flood: ${after.xruns - before.xruns}; /error replies received: ${errors}`);
});

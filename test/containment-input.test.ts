/**
 * Containment of input (issue "Containment: no packet, slot file or plugin edit can stop the
 * engine"): each of these used to end a `chronus start` process with an unhandled rejection
 * (an /error quoting the input did not fit a datagram, or carried a NUL). Each is now answered with
 * a bounded /error, and the engine keeps rendering: asserted on its replies and its frame count.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OscClient, type OscReply } from '../cli/osc-client.ts';
import { makeRoot, startEngineProcess, type EngineProcess } from './helpers/engine-process.ts';
import { assertBoundedError, consonants, framesAdvancePast, greekWithControls, HOST, rng, status } from './helpers/containment.ts';

describe('one UDP packet or one slot file cannot end the process', () => {
  let engine: EngineProcess;
  let client: OscClient;
  let root: string;
  const rand = rng(0xc0de);

  before(async () => {
    root = await makeRoot();
    await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ plugins: { recorder: { enabled: true } } }));
    engine = await startEngineProcess({ root });
    client = await OscClient.open();
  });
  after(async () => {
    await client?.close();
    await engine?.stop();
    await rm(root, { recursive: true, force: true });
  });

  /** Sends, waits for the reply at `replyAddress`, and checks the engine still renders. */
  async function ask(address: string, args: unknown[], replyAddress: string): Promise<OscReply> {
    const before = await status(client, engine.port);
    const reply = await client.request(HOST, engine.port, address, args as never, { replyAddress, timeoutMs: 5000 });
    const after = await framesAdvancePast(client, engine.port, before.framesRendered);
    assert.equal(after.uncaughtErrors, 0, `nothing reached the last-resort handler: ${after.lastUncaught}`);
    assert.equal(engine.proc.exitCode, null, 'the process is alive');
    return reply;
  }

  test('/mod/lfo1/target with a 65,400-character string: a bounded /error', async () => {
    const target = consonants(65_400, rand);
    const reply = await ask('/mod/lfo1/target', [target], '/error');
    assertBoundedError(reply.args, 'lfo target');
    assert.equal(reply.args[0], '/mod/lfo1/target');
    assert.equal(reply.args[1], 'LFO_UNKNOWN_TARGET', "the plugin's own code, carried across the audio thread");
    assert.match(String(reply.args[2]), /\(65400 characters\)/, 'the message says how long the input was');
  });

  test('/engine/record/start with a 20,000-character name records under a bounded name; a 20,000-character format gets a bounded /error', async () => {
    const controls = greekWithControls(20_000, rand);
    const badFormat = await ask('/engine/record/start', ['take', controls], '/error');
    assertBoundedError(badFormat.args, 'control-character format');
    assert.deepEqual(badFormat.args.slice(0, 2), ['/engine/record/start', 'RECORD_BAD_FORMAT']);
    const longFormat = await ask('/engine/record/start', ['take', consonants(65_000, rand)], '/error');
    assertBoundedError(longFormat.args, 'long format');

    const started = await ask('/engine/record/start', [consonants(20_000, rand)], '/engine/record/started');
    const file = String(started.args[0]);
    assert.ok(path.basename(file).length <= 130, file);
    assert.ok(file.startsWith(path.join(root, 'recordings')), file);
    const stopped = await ask('/engine/record/stop', [], '/engine/record/stopped');
    assert.equal(stopped.args[0], file);
  });

  test('a slot file with a NUL in a key, or with 3,000 bad fields: a bounded PATTERN_INVALID, the engine keeps its state', async () => {
    await ask('/pattern/save', [{ type: 'i', value: 1 }], '/pattern/saved');
    const file = path.join(root, 'patterns/slots/slot_001.json');
    const good = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

    await writeFile(file, JSON.stringify({ ...good, 'a\u0000b\u0007': 1 }));
    const nul = await ask('/pattern/load', [{ type: 'i', value: 1 }], '/error');
    assertBoundedError(nul.args, 'NUL key');
    assert.deepEqual(nul.args.slice(0, 2), ['/pattern/load', 'PATTERN_INVALID']);
    assert.match(String(nul.args[2]), /a\\u0000b\\u0007: unknown key/, 'the key is named, its control characters escaped');

    const many: Record<string, unknown> = { ...good };
    for (let i = 0; i < 3000; i++) many[`field${i}`] = consonants(20, rand);
    await writeFile(file, JSON.stringify(many));
    const lots = await ask('/pattern/load', [{ type: 'i', value: 1 }], '/error');
    assertBoundedError(lots.args, '3,000 bad fields');
    const message = String(lots.args[2]);
    assert.ok(message.length <= 2000, `${message.length} characters`);
    assert.match(message, /field0: unknown key/);
    assert.match(message, /… and \d+ more lines\nNothing was changed/, 'the lines left out are counted and the hint stays');
  });

  test('the whole time: no uncaught error, no dropped reply, frames advancing', async () => {
    const s = await status(client, engine.port);
    assert.equal(s.uncaughtErrors, 0);
    assert.equal(s.osc.repliesDropped, 0);
    await framesAdvancePast(client, engine.port, s.framesRendered);
  });
});

/**
 * The engine's console and event log (kernel/status/engine-console.ts, event-log.ts, console-format.ts):
 * what the old engine printed, rate-limited errors, replies shown whether or not they are sent
 * (osc.replyToSender), and the 100-line log; typed integer reply arguments (osc-args.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineConsole, MAX_ERROR_LINES_PER_SECOND } from '../../kernel/status/engine-console.ts';
import { LOCAL_ADDRESS } from '../../kernel/osc/engine-replier.ts';
import { EventLog, EVENT_LOG_LINES } from '../../kernel/status/event-log.ts';
import { oscInt, oscInt64, plainArgs } from '../../kernel/osc/osc-args.ts';
import { decodePacket, encodeMessage } from '../../kernel/osc/osc-transport.ts';
import type { Remote, Replier } from '../../kernel/osc/osc-router.ts';
import { showPatternList } from '../../plugins/patterns/control.ts';

const REMOTE: Remote = { address: '127.0.0.1', port: 9 };

function collector(): Replier & { sent: string[] } {
  const sent: string[] = [];
  return { sent, send: (_r, address) => void sent.push(address), sendJson: (_r, address) => void sent.push(address) };
}

test('replies are shown as the old engine printed them, and passed on unless osc.replyToSender is false', () => {
  const lines: string[] = [];
  const log = new EventLog(() => 0.25);
  // A route that says how its replies are shown (the patterns plugin's /pattern/list).
  const c = new EngineConsole((l) => lines.push(l), true, log, (address) => (address === '/pattern/list' ? showPatternList : undefined));
  const inner = collector();
  const replier = c.wrap(inner, true);
  replier.send(REMOTE, '/engine/list', ['voice1 [voices] gate: freq=440']);
  replier.sendJson(REMOTE, '/seq/status', { bpm: 120, running: false, tracks: [{ name: 'kick' }, { name: 'bass' }] });
  replier.sendJson(REMOTE, '/pattern/list', [{ slot: 6, bytes: 10, modified: '2026-01-02T13:45:00.000Z', name: 'my_groove' }]);
  replier.send(REMOTE, '/pattern/saved', [oscInt(6), '/p/slot_006.json', 'my_groove']);
  replier.send(REMOTE, '/error', ['/mod/voice1/frq', 'OSC_UNKNOWN_ADDRESS', 'no route /mod/voice1/frq']);
  replier.sendJson(REMOTE, '/engine/routes', []);
  assert.deepEqual(inner.sent, ['/engine/list', '/seq/status', '/pattern/list', '/pattern/saved', '/error', '/engine/routes']);
  const text = lines.join('\n');
  assert.match(text, /AVAILABLE MODULES\n=+\n {2}voice1 \[voices\] gate: freq=440/);
  assert.match(text, /\[SEQ\] \/seq\/status:\n {2}bpm: 120\n {2}running: false\n {2}tracks: kick, bass/);
  assert.match(text, /\[PATTERN\] Saved patterns:\n {2}Slot {3}6: 2026-01-02 13:45 {2}my_groove/);
  assert.match(text, /\[CHRONUS\] \/pattern\/saved 6 \/p\/slot_006.json my_groove/);
  assert.match(text, /\[ERROR\] \/mod\/voice1\/frq OSC_UNKNOWN_ADDRESS: no route/);
  assert.doesNotMatch(text, /routes/, '/engine/routes is not printed');
  assert.equal(log.size, 2, 'the save and the error are events');
  assert.match(log.text(), /^\d\d:\d\d:\d\d \| LEVEL: 0\.2500 \| \/pattern\/saved 6 /m);

  // Replies off: still shown, not sent. Console off: sent, not shown.
  const quiet = collector();
  c.wrap(quiet, false).send(REMOTE, '/engine/list', ['x']);
  assert.deepEqual(quiet.sent, []);
  const off: string[] = [];
  const silent = new EngineConsole((l) => off.push(l), false);
  const passed = collector();
  silent.wrap(passed, true).send(REMOTE, '/engine/list', ['x']);
  assert.deepEqual([off, passed.sent], [[], ['/engine/list']]);
});

test("a client inside the engine (a plugin's ctx.engine.send) always gets its replies; only what happened is shown for it", () => {
  const lines: string[] = [];
  const c = new EngineConsole((l) => lines.push(l), true);
  const inner = collector();
  const local: Remote = { address: LOCAL_ADDRESS, port: 3 };
  const replier = c.wrap(inner, false);
  replier.send(local, '/error', ['/engine/record/status', 'RECORDER_DISABLED', 'the recorder is off']);
  replier.sendJson(local, '/engine/record/status', { state: 'idle' });
  replier.send(local, '/engine/record/started', ['recordings/a.wav']);
  assert.deepEqual(inner.sent, ['/error', '/engine/record/status', '/engine/record/started'], 'osc.replyToSender false is about the network');
  assert.deepEqual(lines, ['[CHRONUS] /engine/record/started recordings/a.wav'], 'its queries and errors are its own; a recording started is shown');
});

test('at most MAX_ERROR_LINES_PER_SECOND /error lines a second; the rest are counted in one line', () => {
  const lines: string[] = [];
  let now = 1_000_000;
  const c = new EngineConsole((l) => lines.push(l), true, null, undefined, () => now);
  for (let i = 0; i < 100; i++) c.error('/x', 'OSC_BAD_ARGS', `n ${i}`);
  assert.equal(lines.length, MAX_ERROR_LINES_PER_SECOND);
  now += 1000;
  c.error('/x', 'OSC_BAD_ARGS', 'later');
  assert.match(lines[MAX_ERROR_LINES_PER_SECOND], /… 80 more \/error replies not shown/);
  assert.match(lines.at(-1)!, /later$/);
});

test('the event log keeps the last 100 events on one line each', () => {
  const log = new EventLog(() => Number.NaN);
  for (let i = 0; i < 150; i++) log.add(`event ${i}\nwith a newline`);
  const lines = log.text().trimEnd().split('\n');
  assert.equal(lines.length, EVENT_LOG_LINES);
  assert.match(lines[0], /\| LEVEL: 0\.0000 \| event 50 with a newline$/);
  assert.match(lines.at(-1)!, /event 149/);
});

test('typed integer reply arguments: int32, int64 past 2^31, and their plain values', () => {
  const bytes = encodeMessage('/engine/record/stopped', ['take.wav', oscInt64(2 ** 33 + 1), oscInt(6)]);
  const decoded = decodePacket(bytes, REMOTE);
  assert.ok(decoded.ok);
  assert.equal(decoded.messages[0].typeTags, 'shi');
  assert.deepEqual(decoded.messages[0].args, ['take.wav', 2 ** 33 + 1, 6]);
  assert.deepEqual(plainArgs(['a', oscInt(3), 1.5, [2]]), ['a', 3, 1.5, [2]]);
});

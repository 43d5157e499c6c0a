/**
 * The audio thread's event queue under a flood of timed messages: a bounded horizon
 * (engine.scheduleHorizonSeconds), a coded /error when no room is left ahead, room always kept for
 * events due now (immediate messages, the sequencer's notes), and /engine/stop dropping what is
 * scheduled. Each test asserts that gates, parameter changes and sequencer notes still play.
 *
 * The test voices (fixture seq-voices) add their amp to the left channel while their gate is open.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EventKind } from '../../kernel/audio/event-kinds.ts';
import { EventQueue } from '../../kernel/audio/event-queue.ts';
import { Slot } from '../../kernel/audio/shared-state.ts';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from '../helpers/offline-engine.ts';

const SR = 48000;

async function start(t: { after(fn: () => Promise<void>): void }, extra: Record<string, Record<string, string>> = {}): Promise<OfflineEngine> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-queue-'));
  await cp(path.join(FIXTURE_PLUGINS, 'seq-voices'), path.join(dir, 'seq-voices'), { recursive: true });
  await cp(path.join(PROJECT_ROOT, 'plugins', 'sequencer'), path.join(dir, 'sequencer'), { recursive: true });
  for (const [folder, files] of Object.entries(extra)) {
    await mkdir(path.join(dir, folder), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, folder, name), text);
  }
  const e = await OfflineEngine.start({ pluginsFrom: dir, configure: (c) => (c.audio.sampleRate = SR) });
  t.after(async () => {
    await e.close();
    await rm(dir, { recursive: true, force: true });
  });
  return e;
}

/** Dispatch without waiting for each message (the handlers are synchronous). */
function flood(e: OfflineEngine, count: number, address: string, args: (i: number) => unknown[], frame: (i: number) => number): void {
  for (let i = 0; i < count; i++) e.engine.dispatch({ address, args: args(i), remote: { address: 'test', port: 1 }, frame: frame(i) });
}

function errorsWith(e: OfflineEngine, code: string): number {
  return e.replies.filter((r) => r.address === '/error' && r.args[1] === code).length;
}

const queued = (e: OfflineEngine): number => e.host.shared.values[Slot.QueueLength];

/** voice2 gated by an immediate message, voice3 by the sequencer (X on every step: velocity 1); both still sound. */
async function assertStillPlays(e: OfflineEngine): Promise<void> {
  await e.send('/mod/voice2/amp', [0.25]);
  await e.send('/gate/voice2', [1]);
  await e.send('/seq/add', ['hits', 'voice3', 'X.X.', 440, 1000, 'base_amp=0.5', 'gate_frac=0.5']);
  await e.send('/seq/start');
  const { l } = e.render(0.5);
  // voice2 alone is 0.25; with a sequencer hit on voice3 it is 0.75.
  const tail = l.subarray(SR * 0.05);
  assert.ok(tail.every((x) => x >= 0.25 - 1e-6), 'the immediate gate and amp took effect');
  assert.ok(tail.some((x) => Math.abs(x - 0.75) < 1e-6), 'the sequencer plays its notes');
  await e.send('/seq/stop');
  await e.send('/gate/voice2', [0]);
  e.render(0.05);
}

test('EventQueue: insertLater stops at the limit, keeping the reserve for events due now; clearAfter keeps the earlier ones', () => {
  const q = new EventQueue(16, 4);
  assert.equal(q.limit, 12);
  let accepted = 0;
  for (let i = 0; i < 20; i++) if (q.insertLater(1000 + i, EventKind.SetParam, 0, i)) accepted++;
  assert.equal(accepted, 12);
  assert.equal(q.dropped, 8);
  for (let i = 0; i < 4; i++) assert.ok(q.insert(10, EventKind.Gate, 1, 1), 'an event due now finds room');
  assert.equal(q.insert(10, EventKind.Gate, 1, 1), false, 'full');
  q.clearAfter(500);
  assert.equal(q.length, 4, 'the four due now stay');
  assert.equal(q.peekFrame(), 10);
});

test('8,300 bundles timed an hour ahead are refused with EVENT_TOO_FAR_AHEAD and queue nothing; gates, parameters and sequencer notes play on', async (t) => {
  const e = await start(t);
  const ahead = e.frame + 3600 * SR;
  flood(e, 8300, '/gate/voice1', () => [1], (i) => ahead + i);
  await e.engine.settle();
  assert.equal(errorsWith(e, 'EVENT_TOO_FAR_AHEAD'), 8300);
  const error = e.replies.find((r) => r.address === '/error')!;
  assert.equal(error.args[0], '/gate/voice1');
  assert.match(String(error.args[2]), /timed 3600\.0 s ahead; the engine schedules at most 60 s ahead \(engine\.scheduleHorizonSeconds\)/);
  e.render(0.01);
  assert.equal(queued(e), 0, 'nothing was queued');
  await assertStillPlays(e);
});

test('timed messages within the horizon fill the room ahead, then get EVENT_QUEUE_FULL; what is due now still plays; /engine/stop clears what is scheduled', async (t) => {
  const e = await start(t);
  const limit = e.host.shared.values[Slot.QueueLimit];
  assert.ok(limit > 1000 && limit < 8192, `limit ${limit}`);
  // The start-up parameter values are taken first (records in the ring count as scheduled until then).
  e.render(0.01);
  const ahead = e.frame + 30 * SR;
  flood(e, 8300, '/gate/voice1', (i) => [i % 2], (i) => ahead + i);
  await e.engine.settle();
  assert.equal(errorsWith(e, 'EVENT_QUEUE_FULL'), 8300 - limit, 'every one beyond the limit is refused, to the sender');
  assert.match(String(e.lastReply('/error')!.args[2]), /already scheduled ahead \(at most \d+\); this one was dropped/);
  e.render(0.01);
  assert.equal(queued(e), limit, 'the queue holds what was accepted');
  assert.equal(e.host.shared.values[Slot.EventsDropped], 0, 'nothing was dropped silently');

  await assertStillPlays(e);
  // Still full ahead: another timed message is refused, not lost silently.
  const before = errorsWith(e, 'EVENT_QUEUE_FULL');
  await e.send('/mod/voice1/amp', [0.5], e.frame + SR);
  assert.equal(errorsWith(e, 'EVENT_QUEUE_FULL'), before + 1);

  await e.send('/engine/stop');
  e.render(0.01);
  assert.equal(queued(e), 0, '/engine/stop dropped what was scheduled');
  // Scheduling works again, at the exact frame (after /engine/start: a stopped engine ignores gates).
  await e.send('/engine/start');
  e.render(0.01);
  const at = e.frame + SR / 10;
  await e.send('/mod/voice1/amp', [0.5], at - 1);
  await e.send('/gate/voice1', [1], at);
  assert.equal(errorsWith(e, 'EVENT_QUEUE_FULL'), before + 1, 'accepted');
  const from = e.frame;
  const { l } = e.render(0.2);
  assert.equal(l[at - from - 1], 0);
  assert.equal(l[at - from], 0.5, 'the gate opens on its frame');
});

test('the audio thread keeps its own bound: ring records beyond the limit are dropped and counted, never in the way of events due now', async (t) => {
  const e = await start(t);
  const gate = e.engine.registry.modules.get('voice1')!.gate!;
  e.render(0.01);
  const ahead = e.frame + 30 * SR;
  // Straight into the ring, past the control thread's checks.
  for (let i = 0; i < 9000; i++) e.host.ring.push(EventKind.Gate, ahead + i, gate, 1);
  e.render(0.01);
  const limit = e.host.shared.values[Slot.QueueLimit];
  assert.equal(queued(e), limit);
  assert.equal(e.host.shared.values[Slot.EventsDropped], 9000 - limit);
  await assertStillPlays(e);
});

/** A controller that schedules 10,000 parameter changes 10 s ahead at every block start. */
const FLOODER = `import { definePlugin } from 'plugin-sdk';
export default definePlugin({
  params: {},
  create(ctx) {
    let param = -1;
    return {
      beginBlock(blockStart: number) {
        if (param < 0) param = ctx.events.paramIndex('/mod/voice4/freq');
        if (param < 0) return;
        for (let i = 0; i < 10000; i++) ctx.events.setParam(blockStart + 10 * ctx.sampleRate + i, param, 440);
      },
      process() {},
    };
  },
});`;

test('a plugin that schedules far ahead fills only the room ahead: the sequencer and immediate messages still play', async (t) => {
  const e = await start(t, {
    flooder: {
      'plugin.json': JSON.stringify({ id: 'flooder', name: 'flooder', version: '1.0.0', apiVersion: 1, role: 'controller', entry: 'index.ts', modules: ['flooder1'] }),
      'index.ts': FLOODER,
    },
  });
  e.render(0.05);
  assert.equal(queued(e), e.host.shared.values[Slot.QueueLimit], 'the flooder filled the room ahead');
  await assertStillPlays(e);
  assert.equal((await e.engine.audio.call('plugins')).find((p) => p.pluginId === 'sequencer')?.bypassed, false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ControlRing, type RingRecord } from '../kernel/audio/control-ring.ts';
import { EventQueue } from '../kernel/audio/event-queue.ts';
import { EventKind } from '../kernel/audio/event-kinds.ts';

const rec = (): RingRecord => ({ kind: 0, frame: 0, target: 0, value: 0 });

test('an empty ring pops nothing', () => {
  const ring = new ControlRing(4);
  assert.equal(ring.pop(rec()), false);
  assert.equal(ring.size, 0);
});

test('a full ring refuses and counts the drop, then accepts again once read', () => {
  const ring = new ControlRing(4);
  for (let i = 0; i < 4; i++) assert.ok(ring.push(1, i, i, i));
  assert.equal(ring.push(1, 9, 9, 9), false);
  assert.equal(ring.dropped, 1);
  const r = rec();
  assert.ok(ring.pop(r));
  assert.deepEqual(r, { kind: 1, frame: 0, target: 0, value: 0 });
  assert.ok(ring.push(2, 4, 4, 4.5));
  assert.equal(ring.size, 4);
});

test('records survive many wrap-arounds in order', () => {
  const ring = new ControlRing(8);
  const r = rec();
  let next = 0;
  for (let round = 0; round < 1000; round++) {
    const n = (round % 7) + 1;
    for (let i = 0; i < n; i++) assert.ok(ring.push(3, round, round * 10 + i, -i));
    for (let i = 0; i < n; i++) {
      assert.ok(ring.pop(r));
      assert.equal(r.target, round * 10 + i);
      assert.equal(r.value === 0 ? 0 : r.value, -i === 0 ? 0 : -i);
      next++;
    }
  }
  assert.equal(next, [...Array(1000).keys()].reduce((s, round) => s + (round % 7) + 1, 0));
});

test('a capacity that is not a power of two is refused', () => {
  assert.throws(() => new ControlRing(6), /power of two/);
});

test('a producer thread and a consumer thread pass 200,000 records without loss or reordering', async () => {
  const ring = new ControlRing(256);
  const total = 200_000;
  const producer = new Worker(new URL('./helpers/ring-producer.mjs', import.meta.url), { workerData: { buffer: ring.buffer, total } });
  const r = rec();
  let expected = 0;
  while (expected < total) {
    if (!ring.pop(r)) continue;
    assert.equal(r.frame, expected);
    assert.equal(r.target, expected % 97);
    assert.equal(r.value, expected * 0.5);
    expected++;
  }
  await new Promise((resolve) => producer.once('exit', resolve));
  // The producer retries when the ring is full, so every refusal was counted and then delivered.
  assert.equal(expected, total);
});

test('the event queue orders by frame and keeps arrival order for equal frames', () => {
  const q = new EventQueue(8);
  q.insert(100, 1, 1, 0);
  q.insert(50, 1, 2, 0);
  q.insert(100, 1, 3, 0);
  q.insert(75, 1, 4, 0);
  const order: number[] = [];
  while (q.length > 0) {
    order.push(q.peekTarget());
    q.shift();
  }
  assert.deepEqual(order, [2, 4, 1, 3]);
});

test('at the same frame the event queue puts parameter changes before gates', () => {
  const q = new EventQueue(8);
  q.insert(10, EventKind.Gate, 1, 1);
  q.insert(10, EventKind.SetParam, 2, 0);
  q.insert(10, EventKind.Gate, 3, 1);
  q.insert(10, EventKind.SetParam, 4, 0);
  q.insert(9, EventKind.Gate, 5, 1);
  const order: number[] = [];
  while (q.length > 0) {
    order.push(q.peekTarget());
    q.shift();
  }
  assert.deepEqual(order, [5, 2, 4, 1, 3]);
});

test('the event queue refuses past capacity and counts it', () => {
  const q = new EventQueue(2);
  assert.ok(q.insert(1, 1, 1, 1));
  assert.ok(q.insert(2, 1, 1, 1));
  assert.equal(q.insert(3, 1, 1, 1), false);
  assert.equal(q.dropped, 1);
});

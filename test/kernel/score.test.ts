/** Scores: the hand-checked fast path of parseScore accepts and returns exactly what ScoreSchema (zod) does, and refuses the rest with zod's words. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScore, ScoreSchema } from '../../cli/render/score.ts';

const good: unknown[] = [
  { events: [] },
  { seconds: 4, events: [{ time: 0.5, address: '/gate/voice1', args: [1] }, { time: 0, address: '/mod/voice1/freq', args: [220] }] },
  [{ time: 1, address: '/engine/status' }],
  { events: [{ time: 0, address: '/seq/add', args: ['kick', 'voice1', 'X...', 55, true, [1, 'a']] }] },
  { seconds: 86400, events: [{ time: 0, address: '/x', args: [] }] },
];

const bad: unknown[] = [
  null,
  7,
  { events: {} },
  { events: [], extra: 1 },
  { seconds: 0, events: [] },
  { seconds: 86401, events: [] },
  { seconds: '4', events: [] },
  { events: [{ time: -1, address: '/x' }] },
  { events: [{ time: Infinity, address: '/x' }] },
  { events: [{ time: 0, address: 'x' }] },
  { events: [{ time: 0, address: '/x', args: [{ a: 1 }] }] },
  { events: [{ time: 0, address: '/x', args: [[[1]]] }] },
  { events: [{ time: 0, address: '/x', args: [[true]] }] },
  { events: [{ time: 0, address: '/x', args: 1 }] },
  { events: [{ time: 0, address: '/x', extra: 1 }] },
  { events: [[0, '/x']] },
  { events: [{ address: '/x' }] },
];

test('parseScore accepts every valid score and returns what zod returns, sorted by time', () => {
  for (const json of good) {
    const expected = ScoreSchema.parse(Array.isArray(json) ? { events: json } : json);
    expected.events.sort((a, b) => a.time - b.time);
    assert.deepEqual(parseScore(json, 'score.json'), expected, JSON.stringify(json));
  }
});

test('parseScore refuses what zod refuses, naming the file', () => {
  for (const json of bad) {
    assert.equal(ScoreSchema.safeParse(Array.isArray(json) ? { events: json } : json).success, false, `zod refuses ${JSON.stringify(json)}`);
    assert.throws(() => parseScore(json, 'score.json'), /score\.json is not a valid score/, JSON.stringify(json));
  }
});

test('a long score keeps equal times in their order (a stable sort)', () => {
  const events = Array.from({ length: 2000 }, (_, i) => ({ time: (i % 4) * 0.25, address: `/gate/voice${i}`, args: [1] }));
  const score = parseScore({ events }, 'score.json');
  for (let i = 1; i < score.events.length; i++) {
    const a = score.events[i - 1];
    const b = score.events[i];
    assert.ok(a.time < b.time || (a.time === b.time && Number(a.address.slice(11)) < Number(b.address.slice(11))));
  }
});

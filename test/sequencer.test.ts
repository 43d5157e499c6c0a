/**
 * The step sequencer (plugins/sequencer) played through the offline engine against test voices
 * (test/fixtures/plugins/seq-voices: while a gate is open a voice adds amp to the left channel and
 * freq / 10000 to the right, unsmoothed), so every onset, gate-off, velocity and note is read off the
 * rendered samples at its exact frame.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT, type OfflineEngineOptions } from './helpers/offline-engine.ts';
import { midiToHz, noteNameToHz, parseNotes } from '../plugins/sequencer/notes.ts';
import { StepClock, stepFrames } from '../plugins/sequencer/step-clock.ts';

const PLUGINS = [FIXTURE_PLUGINS, path.join(PROJECT_ROOT, 'plugins')];
const EPS = 1e-6;

function startEngine(configure?: OfflineEngineOptions['configure']): Promise<OfflineEngine> {
  return OfflineEngine.start({ pluginsFrom: PLUGINS, only: ['seq-voices', 'sequencer', 'patterns'], configure });
}

/** Frames (relative to the buffer) where x rises from ~0 and where it falls back to ~0. */
function edges(x: Float32Array): { rise: number[]; fall: number[] } {
  const rise: number[] = [];
  const fall: number[] = [];
  let on = Math.abs(x[0]) > EPS;
  if (on) rise.push(0);
  for (let i = 1; i < x.length; i++) {
    const now = Math.abs(x[i]) > EPS;
    if (now && !on) rise.push(i);
    if (!now && on) fall.push(i);
    on = now;
  }
  return { rise, fall };
}

/** Exact onset and gate-off frames (relative to start) of steps 0..count-1, as the contract defines them. */
function expected(sampleRate: number, bpm: number, swing: number, gateFrac: number, count: number, steps: (n: number) => boolean = () => true) {
  const S = stepFrames(sampleRate, bpm);
  const on: number[] = [];
  const off: number[] = [];
  for (let n = 0; n < count; n++) {
    if (!steps(n)) continue;
    const exact = n * S + (n % 2 === 1 ? swing * S * 0.5 : 0);
    on.push(Math.round(exact));
    off.push(Math.round(exact + gateFrac * S));
  }
  return { on, off, S };
}

async function restart(e: OfflineEngine, bpm: number, swing: number): Promise<number> {
  await e.send('/seq/stop');
  e.render(0, e.host.blockSize);
  await e.send('/seq/bpm', [bpm]);
  await e.send('/seq/swing', [swing]);
  const start = e.frame;
  await e.send('/seq/start');
  return start;
}

function lastError(e: OfflineEngine): string {
  const r = e.lastReply('/error');
  return r ? String(r.args[2]) : '';
}

describe('notes and the step clock (pure)', () => {
  test('note tokens: Hz with a dot, MIDI digits, names with accidentals and octaves', () => {
    assert.equal(midiToHz(69), 440);
    assert.ok(Math.abs(noteNameToHz('C4')! - 261.6256) < 1e-3);
    assert.ok(Math.abs(noteNameToHz('C#4')! - 277.1826) < 1e-3);
    assert.ok(Math.abs(noteNameToHz('Bb2')! - 116.5409) < 1e-3);
    assert.ok(Math.abs(noteNameToHz('A')! - 440) < 1e-9, 'octave defaults to 4');
    const r = parseNotes('440.0, 69 A4,C2\tEb2');
    assert.ok(r.ok);
    assert.deepEqual(r.notes.slice(0, 3), [440, 440, 440]);
    assert.ok(Math.abs(r.notes[3] - 65.4064) < 1e-3 && Math.abs(r.notes[4] - 77.7817) < 1e-3);
    assert.deepEqual(parseNotes('   '), { ok: true, notes: [] });
    const bad = parseNotes('C2 H2');
    assert.ok(!bad.ok && bad.error.startsWith('note 2:'), JSON.stringify(bad));
    // A bare number above 127 is Hz (old songs mix "329.63" and "392"); 0–127 stay MIDI numbers.
    assert.deepEqual(parseNotes('329.63,329.63,392,440'), { ok: true, notes: [329.63, 329.63, 392, 440] });
    assert.deepEqual(parseNotes('127 128'), { ok: true, notes: [midiToHz(127), 128] });
    const high = parseNotes('30000');
    assert.ok(!high.ok && /read as Hz/.test(high.error), JSON.stringify(high));
    assert.ok(!parseNotes('1.2.3').ok);
  });

  test('tempo change re-anchors at the next step without moving it', () => {
    const c = new StepClock(48000, 120);
    c.start(1000);
    c.nextStep = 3;
    const before = c.grid(3);
    c.setBpmAtStep(140, 3);
    assert.equal(c.grid(3), before);
    assert.ok(Math.abs(c.grid(4) - c.grid(3) - stepFrames(48000, 140)) < 1e-9);
  });
});

describe('sequencer timing', () => {
  let e: OfflineEngine;
  before(async () => {
    e = await startEngine();
    await e.send('/seq/add', ['t', 'voice1', 'xxxxxxxxxxxxxxxx', 440, 1000]);
  });
  after(() => e.close());

  for (const [bpm, swing, steps] of [
    [120, 0, 33],
    [128, 0.2, 33],
    [174, 0.6, 40],
    [97.3, 0.45, 21],
    [300, 0.1, 40],
    [30, 0.33, 9],
  ] as const) {
    test(`onsets and gate-offs land on the exact sample: ${bpm} BPM, swing ${swing}`, async () => {
      const start = await restart(e, bpm, swing);
      const { on, off, S } = expected(48000, bpm, swing, 0.5, steps);
      const { l } = e.render(0, Math.round(steps * S) - 1);
      const got = edges(l);
      const want = { on: on.filter((f) => f < l.length), off: off.filter((f) => f < l.length) };
      assert.deepEqual(got.rise, want.on, `onsets from frame ${start}`);
      assert.deepEqual(got.fall, want.off, 'gate-offs');
      for (const f of got.rise) assert.ok(Math.abs(l[f] - 0.18) < EPS, `x hit level at ${f}: ${l[f]}`);
    });
  }

  test('the clock never drifts: step 1000 at 133 BPM is where the formula says', async () => {
    const start = await restart(e, 133, 0.3);
    const { on } = expected(48000, 133, 0.3, 0.5, 1001);
    const target = on[1000];
    e.render(0, target - 100);
    const { l } = e.render(0, 200);
    const got = edges(l).rise.map((f) => f + target - 100);
    assert.deepEqual(got, [target], `step 1000 after start ${start}`);
  });

  test('a tempo change mid-bar keeps the groove: later steps follow the new step length', async () => {
    const start = await restart(e, 120, 0);
    const S1 = stepFrames(48000, 120);
    e.render(0, Math.round(2.5 * S1)); // steps 0, 1, 2 played; now half way through step 2
    const now = e.frame;
    await e.send('/seq/bpm', [150]);
    const S2 = stepFrames(48000, 150);
    const { l } = e.render(0, Math.round(4 * S2));
    const rises = edges(l).rise.map((f) => f + now);
    // The next step (3) was 0.5 × S1 away; that distance scales by S2/S1.
    const g3 = now + (start + 3 * S1 - now) * (S2 / S1);
    assert.deepEqual(rises, [0, 1, 2, 3].map((k) => Math.round(g3 + k * S2)).filter((f) => f < now + l.length));
  });
});

test('another sample rate and block size: 44.1 kHz, 100-frame blocks, 137 BPM, swing 0.25', async () => {
  const e = await startEngine((c) => {
    c.audio.sampleRate = 44100;
    c.audio.bufferSize = 100;
  });
  try {
    await e.send('/seq/add', ['t', 'voice2', 'x.xx', 440, 1000, 'gate_frac=0.3']);
    e.render(0, 1234);
    await restart(e, 137, 0.25);
    const { on, off, S } = expected(44100, 137, 0.25, 0.3, 24, (n) => n % 4 !== 1);
    const { l } = e.render(0, Math.round(24 * S) - 1);
    const got = edges(l);
    assert.deepEqual(got.rise, on);
    assert.deepEqual(got.fall, off);
  } finally {
    await e.close();
  }
});

describe('hits: velocity, notes, gate lengths', () => {
  let e: OfflineEngine;
  before(async () => {
    e = await startEngine();
  });
  after(() => e.close());

  const index = (module: string, name: string) => e.engine.registry.param(module, name)!.index;
  const valueOf = (module: string, name: string) => e.host.engine.bank.get(index(module, name))!.value;

  test('X is velocity 1.0 and x 0.6: amp, filter and sends per hit', async () => {
    await e.send('/seq/clear');
    await e.send('/seq/add', ['v', 'voice1', 'X.x.', 220, 1000, 'base_amp=0.5', 'accent_boost=1500', 'reverb_send=0.25', 'delay_send=0.4']);
    const start = await restart(e, 120, 0);
    const S = stepFrames(48000, 120);
    const { l } = e.render(0, 1);
    assert.ok(Math.abs(l[0] - 0.5) < EPS, `X amp ${l[0]}`);
    assert.equal(valueOf('voice1', 'amp'), 0.5);
    assert.equal(valueOf('voice1', 'filter/freq'), 1000 + 1500 * 0.5);
    assert.equal(valueOf('voice1', 'freq'), 220);
    assert.equal(valueOf('voice1', 'send/reverb'), 0.25);
    assert.equal(valueOf('voice1', 'send/delay'), 0.4);
    e.render(0, 2 * S - 1);
    assert.equal(e.frame, start + 2 * S);
    const x = e.render(0, 1).l;
    assert.ok(Math.abs(x[0] - 0.3) < EPS, `x amp ${x[0]}`);
    assert.ok(Math.abs(valueOf('voice1', 'filter/freq') - (1000 + 1500 * 0.1)) < 1e-9);
  });

  test('notes cycle once per hit; rests do not advance them', async () => {
    await e.send('/seq/clear');
    await e.send('/seq/add', ['n', 'voice3', 'x.xxx.x', 110, 1000, 'C4 E4,G4']);
    await restart(e, 120, 0);
    const S = stepFrames(48000, 120);
    const { r } = e.render(0, Math.round(7 * S));
    const hits = [0, 2, 3, 4, 6].map((n) => Math.round(n * S));
    const got = hits.map((f) => r[f] * 10000);
    const want = ['C4', 'E4', 'G4', 'C4', 'E4'].map((n) => noteNameToHz(n)!);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 0.05, `hit ${i}: ${g} Hz, want ${want[i]}`));
    await e.send('/seq/update/notes', ['n', '57', '440.0', 'A4']);
    const status = JSON.parse(await statusOf(e));
    assert.deepEqual(status.tracks[0].notes.map((x: number) => Math.round(x * 1000) / 1000), [220, 440, 440]);
    assert.equal(status.tracks[0].note_index, 0);
  });

  test('without notes a track plays its base_freq', async () => {
    await e.send('/seq/clear');
    await e.send('/seq/add', ['b', 'voice2', 'x', 55, 200]);
    await restart(e, 120, 0);
    const { r } = e.render(0, 10);
    assert.ok(Math.abs(r[0] * 10000 - 55) < 0.01);
  });

  for (const frac of [0.1, 0.25, 0.75, 1]) {
    test(`gate length is gate_frac of a step: ${frac}`, async () => {
      await e.send('/seq/clear');
      await e.send('/seq/add', ['g', 'voice4', 'x...', 440, 1000, `gate_frac=${frac}`]);
      await restart(e, 128, 0);
      const S = stepFrames(48000, 128);
      const { l } = e.render(0, Math.round(8 * S));
      const got = edges(l);
      assert.deepEqual(got.rise, [0, Math.round(4 * S)]);
      assert.deepEqual(got.fall, [Math.round(frac * S), Math.round(4 * S + frac * S)]);
    });
  }

  test('legato (gate_frac 1): the next hit retriggers on the very sample the last one ends', async () => {
    await e.send('/seq/clear');
    await e.send('/seq/add', ['g', 'voice4', 'xx..', 440, 1000, 'gate_frac=1']);
    await restart(e, 120, 0);
    const { l } = e.render(0, 24000);
    assert.deepEqual(edges(l), { rise: [0], fall: [12000] });
  });
});

async function statusOf(e: OfflineEngine): Promise<string> {
  await e.send('/seq/status');
  return String(e.lastReply('/seq/status')!.args[0]);
}

describe('no stuck notes', () => {
  let e: OfflineEngine;
  before(async () => {
    e = await startEngine();
  });
  after(() => e.close());

  for (const command of ['/seq/stop', '/seq/clear', '/engine/stop']) {
    test(`${command} closes every gate the sequencer opened, at the next block`, async () => {
      await e.send('/seq/clear');
      await e.send('/seq/add', ['a', 'voice1', 'x', 440, 1000, 'gate_frac=1']);
      await e.send('/seq/add', ['b', 'voice2', 'X', 440, 1000, 'gate_frac=1']);
      await restart(e, 60, 0);
      const first = e.render(0, 1000).l;
      assert.ok(first[999] > 0.4, 'both notes sound');
      const at = e.frame;
      await e.send(command);
      const { l } = e.render(0, 48000);
      assert.equal(e.frame - l.length, at);
      assert.ok(l.every((x) => x === 0), `silent from the block after ${command}`);
      const status = JSON.parse(await statusOf(e));
      assert.equal(status.heldGates, 0);
      // A stopped engine ignores gates until /engine/start.
      if (command === '/engine/stop') await e.send('/engine/start');
    });
  }

  test('/seq/remove lets the held note end after its gate_frac, then the track is gone', async () => {
    await e.send('/seq/clear');
    await e.send('/seq/add', ['a', 'voice1', 'x', 440, 1000, 'gate_frac=0.5']);
    await restart(e, 120, 0);
    e.render(0, 100);
    await e.send('/seq/remove', ['a']);
    const { l } = e.render(0, 12000);
    assert.ok(l[0] > 0, 'the note is still sounding');
    assert.deepEqual(edges(l), { rise: [0], fall: [3000 - 100] }, 'it ends on time and nothing new starts');
  });
});

describe('commands and replies', () => {
  let e: OfflineEngine;
  before(async () => {
    e = await startEngine();
  });
  after(() => e.close());

  test('/seq/status answers with tempo, swing, running and the tracks as JSON', async () => {
    await e.send('/seq/add', ['kick', 'voice1', 'X...X...X...X...', 55, 200]);
    await e.send('/seq/add', ['bass', 'voice2', 'x.x.x.xx', 110, 400, 'C2 C2 Eb2 G1']);
    await e.send('/seq/bpm', [128]);
    await e.send('/seq/swing', [0.2]);
    const s = JSON.parse(await statusOf(e));
    assert.equal(s.bpm, 128);
    assert.equal(s.swing, 0.2);
    assert.equal(s.running, false);
    assert.deepEqual(
      s.tracks.map((t: { name: string; voice: string; pattern: string }) => [t.name, t.voice, t.pattern]),
      [
        ['kick', 'voice1', 'X...X...X...X...'],
        ['bass', 'voice2', 'x.x.x.xx'],
      ],
    );
    assert.equal(s.tracks[0].base_freq, 55);
    assert.equal(s.tracks[0].filter_freq, 200);
    assert.equal(s.tracks[1].notes.length, 4);
  });

  test('bpm and swing are clamped to 30–300 and 0–0.6', async () => {
    await e.send('/seq/bpm', [1000]);
    await e.send('/seq/swing', [-1]);
    let s = JSON.parse(await statusOf(e));
    assert.equal(s.bpm, 300);
    assert.equal(s.swing, 0);
    await e.send('/seq/bpm', ['12']);
    await e.send('/seq/swing', [0.9]);
    s = JSON.parse(await statusOf(e));
    assert.equal(s.bpm, 30);
    assert.equal(s.swing, 0.6);
  });

  test('bad arguments are refused with the argument and the reason', async () => {
    const cases: [string, unknown[], RegExp][] = [
      ['/seq/add', ['kick', 'voice1'], /expected <track> <voice> <pattern>/],
      ['/seq/add', ['bass', 'voice2', 'x.x.', 110, 400, 'C2 H9'], /argument 6: note 2: "H9" is not a note/],
      ['/seq/add', ['bass', 'voice2', 'x.x.', 'abc'], /argument 4: base_freq: expected a number/],
      ['/seq/add', ['bass', 'voice2', 'x.x.', 'gate_frac=7'], /gate_frac must be 0.01–1/],
      ['/seq/add', ['bass', 'voice2', 'x.x.', 'colour=red'], /unknown track key "colour"/],
      ['/seq/add', ['../x', 'voice2', 'x.x.'], /argument 1: expected a track name/],
      ['/seq/add', ['bass', 'Voice 2', 'x.x.'], /argument 2: expected a voice module id/],
      ['/seq/add', ['bass', 'voice9', 'x.x.'], /no module "voice9" with a gate/],
      ['/seq/add', ['bass', 'voice2', ''], /argument 3: a pattern needs at least one step/],
      ['/seq/remove', ['nope'], /no track "nope"/],
      ['/seq/bpm', ['fast'], /argument 1: expected a number/],
    ];
    for (const [address, args, re] of cases) {
      const n = e.replies.length;
      await e.send(address, args);
      const err = e.replies.slice(n).find((r) => r.address === '/error');
      assert.ok(err, `${address} ${JSON.stringify(args)} got no /error`);
      assert.match(String(err.args[2]), re, `${address} ${JSON.stringify(args)}`);
    }
    // Extra trailing arguments are ignored, as the old engine did (counted in /engine/status as extraArgs).
    const before = e.engine.router.counters.extraArgs;
    const n = e.replies.length;
    await e.send('/seq/stop', [1]);
    assert.equal(e.replies.slice(n).find((r) => r.address === '/error'), undefined);
    assert.equal(e.engine.router.counters.extraArgs, before + 1);
    const s = JSON.parse(await statusOf(e));
    assert.deepEqual(
      s.tracks.map((t: { name: string }) => t.name),
      ['kick', 'bass'],
      'nothing changed',
    );
    assert.equal(lastError(e).length > 0, true);
  });

  test('/seq/add with key=value options and a re-add replaces the track in place', async () => {
    await e.send('/seq/add', ['kick', 'voice1', 'X.X.', 'base_amp=0.9', 'filter_freq=300', 'notes=36,48']);
    const s = JSON.parse(await statusOf(e));
    assert.equal(s.tracks[0].name, 'kick');
    assert.equal(s.tracks[0].pattern, 'X.X.');
    assert.equal(s.tracks[0].base_amp, 0.9);
    assert.equal(s.tracks[0].filter_freq, 300);
    assert.equal(s.tracks.length, 2);
    await e.send('/seq/update/pattern', ['kick', 'x']);
    assert.equal(JSON.parse(await statusOf(e)).tracks[0].pattern, 'x');
  });
});

describe('state', () => {
  test('hot reload continues the groove on the same grid, with the held note released on time', async () => {
    const e = await startEngine();
    try {
      await e.send('/seq/add', ['t', 'voice1', 'x.x.', 440, 1000, 'C4 D4 E4']);
      const start = await restart(e, 120, 0.3);
      const { on, off, S } = expected(48000, 120, 0.3, 0.5, 64, (n) => n % 2 === 0);
      const first = e.render(0, Math.round(8.2 * S));
      const slotBefore = e.engine.plugins.loaded.get('sequencer')!.slotId;
      await e.engine.plugins.load(path.join(e.root, 'plugins', 'sequencer'));
      assert.notEqual(e.engine.plugins.loaded.get('sequencer')!.slotId, slotBefore, 'a new instance took over');
      const second = e.render(0, Math.round(8 * S));
      const l = new Float32Array(first.l.length + second.l.length);
      l.set(first.l);
      l.set(second.l, first.l.length);
      const r = new Float32Array(l.length);
      r.set(first.r);
      r.set(second.r, first.r.length);
      const got = edges(l);
      assert.deepEqual(got.rise, on.filter((f) => f < l.length), `onsets from ${start}`);
      assert.deepEqual(got.fall, off.filter((f) => f < l.length));
      const notes = got.rise.map((f) => Math.round(r[f] * 10000));
      assert.deepEqual(notes, got.rise.map((_, i) => [262, 294, 330][i % 3]));
      assert.ok(got.rise.length >= 8);
    } finally {
      await e.close();
    }
  });

  test('a bad state is refused whole: the field and reason, nothing changes', async () => {
    const e = await startEngine();
    try {
      await e.send('/seq/add', ['t', 'voice1', 'x.x.', 440, 1000]);
      const before = await e.host.call('getState', 'sequencer');
      for (const bad of [
        { bpm: 1e9 },
        { tracks: [{ name: 't', voice: 'voice1', pattern: 'x', extra: 1 }] },
        { tracks: [{ name: 't', voice: 'voice1' }] },
        { swing: 'lots' },
        { tracks: [{ name: 'a', voice: 'voice1', pattern: 'x' }, { name: 'a', voice: 'voice2', pattern: 'x' }] },
      ]) {
        await assert.rejects(e.host.call('setState', 'sequencer', bad), /sequencer state refused: \S+/);
      }
      assert.deepEqual(await e.host.call('getState', 'sequencer'), before);
    } finally {
      await e.close();
    }
  });
});

describe('pattern loads land on the bar', () => {
  let e: OfflineEngine;
  before(async () => {
    e = await startEngine();
  });
  after(() => e.close());

  test('a load while running swaps tracks and tempo at the first sample of the next bar', async () => {
    // Slot 1: voice1 on every other step at 150 BPM (right channel 0.1).
    await e.send('/seq/clear');
    await e.send('/seq/add', ['k', 'voice1', 'x.x.x.x.x.x.x.x.', 1000, 1000]);
    await e.send('/seq/bpm', [150]);
    await e.send('/pattern/save', [1]);
    assert.ok(e.lastReply('/pattern/saved'), JSON.stringify(e.replies.at(-1)));
    // Now: voice2 on the quarters at 120 BPM (right channel 0.2).
    await e.send('/seq/clear');
    await e.send('/seq/add', ['q', 'voice2', 'x...', 2000, 1000]);
    const start = await restart(e, 120, 0);
    const S = stepFrames(48000, 120);
    const bar = start + 16 * S;
    const a = e.render(0, Math.round(5.5 * S)); // into step 5 of bar 0
    await e.send('/pattern/load', [1]);
    const loaded = e.lastReply('/pattern/loaded');
    assert.ok(loaded, JSON.stringify(e.replies.at(-1)));
    assert.equal(JSON.parse(String(loaded.args[1])).sequencer, 'bar');
    const b = e.render(0, Math.round(16 * S));
    const r = new Float32Array(a.r.length + b.r.length);
    r.set(a.r);
    r.set(b.r, a.r.length);
    const rises = edges(r).rise.map((f) => f + start);
    const S2 = stepFrames(48000, 150);
    const want = [0, 4, 8, 12].map((n) => start + Math.round(n * S));
    for (let k = 0; bar + Math.round(k * 2 * S2) < start + r.length; k++) want.push(Math.round(bar + k * 2 * S2));
    assert.deepEqual(rises, want);
    for (const f of rises) {
      const level = r[f - start] * 10000;
      assert.ok(Math.abs(level - (f < bar ? 2000 : 1000)) < 0.1, `frame ${f}: ${level} Hz`);
    }
    const s = JSON.parse(await statusOf(e));
    assert.equal(s.bpm, 150);
    assert.deepEqual(s.tracks.map((t: { name: string }) => t.name), ['k']);
  });

  test('"immediate" swaps at the next block', async () => {
    await e.send('/seq/clear');
    await e.send('/seq/add', ['q', 'voice2', 'x...', 2000, 1000]);
    const start = await restart(e, 120, 0);
    const S = stepFrames(48000, 120);
    e.render(0, Math.round(1.5 * S));
    await e.send('/pattern/load', [1, 'immediate']);
    assert.equal(JSON.parse(String(e.lastReply('/pattern/loaded')!.args[1])).sequencer, 'now');
    const s = JSON.parse(await statusOf(e));
    assert.deepEqual(s.tracks.map((t: { name: string }) => t.name), ['k']);
    assert.equal(s.bpm, 150);
    assert.equal(s.pendingLoad, null);
    // The bar grid continues from where it was: step 2 lies 0.5 × S (at 120) after now, rescaled to 150.
    const now = e.frame;
    const g2 = now + (start + 2 * S - now) * (stepFrames(48000, 150) / S);
    const { r } = e.render(0, Math.round(2 * S));
    assert.deepEqual(edges(r).rise.map((f) => f + now), [Math.round(g2)]);
  });

  test('a load while stopped applies at once, and a stop commits a load waiting for the bar', async () => {
    await e.send('/seq/stop');
    await e.send('/seq/clear');
    await e.send('/pattern/load', [1]);
    let s = JSON.parse(await statusOf(e));
    assert.deepEqual(s.tracks.map((t: { name: string }) => t.name), ['k']);
    assert.equal(s.running, false, 'slot 1 was saved stopped');
    await e.send('/seq/clear');
    await e.send('/seq/start');
    e.render(0, 3000);
    await e.send('/pattern/load', [1]);
    s = JSON.parse(await statusOf(e));
    assert.equal(s.pendingLoad, 'bar');
    await e.send('/seq/stop');
    s = JSON.parse(await statusOf(e));
    assert.equal(s.pendingLoad, null);
    assert.deepEqual(s.tracks.map((t: { name: string }) => t.name), ['k']);
  });
});

test('drives the real voices plugin (plugins/voices): notes sound and the voice follows them', async () => {
  const e = await OfflineEngine.start({ pluginsFrom: path.join(PROJECT_ROOT, 'plugins'), only: ['voices', 'sequencer'] });
  try {
    await e.send('/mod/voice2/osc/type', [1]);
    await e.send('/seq/add', ['bass', 'voice2', 'x.x.x.xx', 110, 400, 'C2 C2 Eb2 G1']);
    await e.send('/seq/bpm', [128]);
    await e.send('/seq/start');
    const { l } = e.render(0.5);
    let peak = 0;
    for (const x of l) peak = Math.max(peak, Math.abs(x));
    assert.ok(peak > 0.01, `the voice sounds (peak ${peak})`);
    const freq = e.host.engine.bank.get(e.engine.registry.param('voice2', 'freq')!.index)!;
    assert.ok(Math.abs(freq.target - midiToHz(36)) < 0.01 || Math.abs(freq.target - midiToHz(39)) < 0.01, `freq ${freq.target}`);
    await e.send('/seq/stop');
    e.render(1.5);
    const { l: tail } = e.render(0.1);
    assert.ok(tail.every((x) => Math.abs(x) < 1e-4), 'released after stop');
  } finally {
    await e.close();
  }
});

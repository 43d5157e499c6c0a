/**
 * Adsr: stage times exact to the sample (asserted within 1 ms), exact sustain, retrigger without a
 * jump, block and per-sample paths identical, state round trip. Offline at 48 kHz.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Adsr, ADSR_ATTACK, ADSR_RELEASE, ADSR_SUSTAIN } from '../../plugin-sdk/dsp/index.ts';
import { maxStep } from '../helpers/signal.ts';

const FS = 48000;

/** Per-sample envelope (float64): gate on at 0, gate off at `offAt`, `total` samples. */
function envelope(a: number, d: number, s: number, r: number, offAt: number, total: number): Float64Array {
  const env = new Adsr(FS);
  env.setTimes(a, d, s, r);
  const out = new Float64Array(total);
  env.gateOn();
  for (let i = 0; i < total; i++) {
    if (i === offAt) env.gateOff();
    out[i] = env.next();
  }
  return out;
}

const settings = [
  { a: 0.01, d: 0.1, s: 0.7, r: 0.5 },
  { a: 0.005, d: 0.1, s: 0.6, r: 0.15 },
  { a: 0.123, d: 0.0456, s: 0.33, r: 1.234 },
  { a: 0.001, d: 2, s: 0.05, r: 0.01 },
];

describe('Adsr stage times and levels', () => {
  for (const { a, d, s, r } of settings) {
    test(`A ${a} s, D ${d} s, S ${s}, R ${r} s: each stage within 1 ms, sustain exact`, (t) => {
      const offAt = Math.round((a + d + 0.05) * FS);
      const total = offAt + Math.round((r + 0.05) * FS);
      const e = envelope(a, d, s, r, offAt, total);
      assert.equal(e[0], 0, 'starts at 0');
      const peakAt = e.indexOf(1);
      let sustainAt = -1;
      for (let i = peakAt; i < offAt; i++) {
        if (e[i] === s) {
          sustainAt = i;
          break;
        }
      }
      const zeroAt = e.indexOf(0, offAt);
      const attackErr = (peakAt / FS - a) * 1000;
      const decayErr = ((sustainAt - peakAt) / FS - d) * 1000;
      const releaseErr = ((zeroAt - offAt) / FS - r) * 1000;
      t.diagnostic(`attack ${attackErr.toFixed(4)} ms, decay ${decayErr.toFixed(4)} ms, release ${releaseErr.toFixed(4)} ms off`);
      assert.ok(Math.abs(attackErr) <= 1 && Math.abs(attackErr) <= 0.5 / 48 + 1e-9, `attack off by ${attackErr} ms`);
      assert.ok(sustainAt > 0 && Math.abs(decayErr) <= 1 && Math.abs(decayErr) <= 0.5 / 48 + 1e-9, `decay off by ${decayErr} ms`);
      assert.ok(zeroAt > 0 && Math.abs(releaseErr) <= 1 && Math.abs(releaseErr) <= 0.5 / 48 + 1e-9, `release off by ${releaseErr} ms`);
      for (let i = sustainAt; i <= offAt; i++) assert.equal(e[i], s, 'sustain level exact');
      // Linear: constant step within each stage.
      const up = 1 / Math.round(a * FS);
      for (let i = 1; i <= peakAt; i++) assert.ok(Math.abs(e[i] - e[i - 1] - up) < 1e-12, 'attack is linear');
      for (let i = zeroAt; i < total; i++) assert.equal(e[i], 0, 'silent after release');
    });
  }

  test('release from mid-attack still takes the release time and idles exactly then', () => {
    const env = new Adsr(FS);
    env.setTimes(0.1, 0.1, 0.5, 0.2);
    env.gateOn();
    for (let i = 0; i < 1200; i++) env.next();
    env.gateOff();
    assert.equal(env.stage, ADSR_RELEASE);
    let n = 0;
    while (!env.isIdle()) {
      env.next();
      n++;
    }
    assert.equal(n, Math.round(0.2 * FS));
  });

  test('block path (process/render) equals the per-sample path, across block edges', () => {
    const a = 0.0123, d = 0.0777, s = 0.42, r = 0.333;
    const offAt = 9000;
    const total = 30000;
    const ref = envelope(a, d, s, r, offAt, total);
    const env = new Adsr(FS);
    env.setTimes(a, d, s, r);
    env.gateOn();
    const out = new Float32Array(total);
    for (let start = 0; start < total; ) {
      const end = Math.min(total, start === 0 ? offAt : start + 97);
      if (start === offAt) env.gateOff();
      env.render(out, start, end);
      start = end;
    }
    for (let i = 0; i < total; i++) assert.equal(out[i], Math.fround(ref[i]), `sample ${i}`);
    assert.ok(env.isIdle());
  });
});

describe('Adsr retrigger and sustain changes', () => {
  test('gate on during release, decay and attack continues from the current level (no jump)', () => {
    const env = new Adsr(FS);
    env.setTimes(0.01, 0.1, 0.5, 0.3);
    const out = new Float64Array(48000);
    const events = new Map<number, number>([[0, 1], [2000, 1], [9000, 0], [12000, 1], [12100, 1], [20000, 0]]);
    for (let i = 0; i < out.length; i++) {
      const g = events.get(i);
      if (g !== undefined) env.setGate(g);
      out[i] = env.next();
    }
    // The steepest legal step is the attack slope (1/480 per sample); anything bigger is a jump.
    const step = maxStep(out);
    assert.ok(step <= 1 / 480 + 1e-12, `largest step ${step}`);
    assert.ok(out[12099] > 0 && out[12099] < 1, 'retriggered from release level, still rising');
  });

  test('a new sustain glides there in 5 ms, then holds exactly', () => {
    const env = new Adsr(FS);
    env.setTimes(0.001, 0.001, 0.8, 0.1);
    env.gateOn();
    for (let i = 0; i < 1000; i++) env.next();
    assert.equal(env.stage, ADSR_SUSTAIN);
    env.setTimes(0.001, 0.001, 0.2, 0.1);
    const out: number[] = [];
    for (let i = 0; i < 400; i++) out.push(env.next());
    assert.ok(maxStep(out) <= 0.6 / 240 + 1e-12);
    assert.equal(out[240], 0.2);
    assert.equal(out[399], 0.2);
  });

  test('state round trip continues an envelope mid-attack exactly', () => {
    const a = new Adsr(FS);
    a.setTimes(0.05, 0.1, 0.5, 0.3);
    a.gateOn();
    for (let i = 0; i < 1000; i++) a.next();
    const b = new Adsr(FS);
    b.setTimes(0.05, 0.1, 0.5, 0.3);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    assert.equal(b.stage, ADSR_ATTACK);
    for (let i = 0; i < 10000; i++) assert.equal(b.next(), a.next());
    const c = new Adsr(FS);
    c.setState({ stage: 'sustain' } as never);
    c.setState(null);
    c.setState({ level: 2, stage: 'bogus' } as never);
    assert.ok(Number.isFinite(c.next()));
  });
});

test('a segment as a renderer reads it: the step and samples left as fields, and through the older getters', () => {
  const env = new Adsr(FS);
  env.setTimes(0.01, 0.1, 0.5, 0.2);
  env.gateOn();
  assert.equal(env.remain, 480, 'the attack: 10 ms');
  assert.ok(env.inc > 0);
  assert.equal(env.increment, env.inc);
  assert.equal(env.remaining, env.remain);
  env.skip(480 + 4800);
  assert.equal(env.stage, ADSR_SUSTAIN);
  assert.equal(env.remaining, 0);
  assert.equal(env.increment, 0, 'no step while sustaining, whatever the field holds');
});

/**
 * delay1 (plugins/delay): an impulse's echo arrives at the set time (within one sample, also at a
 * fractional time), successive echoes decay by the feedback ratio, moving the time while playing
 * makes no discontinuity, echoes survive a hot reload, and an unused delay goes idle. Offline at
 * 48 kHz: probe → send:delay → delay1 → master.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DelayDsp } from '../../plugins/delay/dsp.ts';
import { errors, renderCapture, sendAll, startWith } from '../helpers/effect-engine.ts';
import type { OfflineEngine } from '../helpers/offline-engine.ts';
import { argPeak, energy, maxStep, peak, rms } from '../helpers/signal.ts';

const FS = 48000;

/** An engine whose probe feeds only the delay send; the delay plays wet only with open filters. */
async function rig(settings: readonly (readonly [string, number])[] = []): Promise<OfflineEngine> {
  const e = await startWith(['probe', 'delay']);
  await sendAll(e, [
    ['/mod/probe1/main', 0],
    ['/mod/probe1/delay', 1],
    ['/mod/delay1/mix', 1],
    ['/mod/delay1/lowcut', 20],
    ['/mod/delay1/highcut', 10000],
    ...settings,
  ]);
  renderCapture(e, 4096); // let the kernel's smoothing settle
  return e;
}

/** Opens the probe's gate at the next block; returns the capture starting at that frame. */
async function fire(e: OfflineEngine, seconds: number) {
  const at = e.frame;
  await e.send('/gate/probe1', [1], at);
  const c = renderCapture(e, Math.round(seconds * FS));
  assert.equal(c.frame0, at);
  return c;
}

describe('delay', () => {
  for (const time of [0.25, 0.3127]) {
    test(`the echo of an impulse arrives after ${time} s, within one sample`, async () => {
      const e = await rig([
        ['/mod/probe1/signal', 1],
        ['/mod/delay1/feedback', 0.5],
        ['/mod/delay1/time', time],
      ]);
      try {
        renderCapture(e, 4096);
        const c = await fire(e, 0.8);
        const want = time * FS;
        const first = argPeak(c.busL, 1000, Math.round(want * 1.5));
        const second = argPeak(c.busL, Math.round(want * 1.5), Math.round(want * 2.5));
        console.log(`  time ${time} s = ${want.toFixed(1)} samples: echoes at ${first}, ${second} (L), ${argPeak(c.busR, 1000, Math.round(want * 1.5))} (R)`);
        assert.ok(Math.abs(first - want) <= 1, `first echo at ${first}, want ${want}`);
        assert.ok(Math.abs(argPeak(c.busR, 1000, Math.round(want * 1.5)) - want) <= 1);
        assert.ok(Math.abs(second - 2 * want) <= 2, `second echo at ${second}, want ${2 * want}`);
        assert.ok(peak(c.busL, 0, 1000) === 0, 'nothing before the echo (wet only)');
        assert.deepEqual(errors(e), []);
      } finally {
        await e.close();
      }
    });
  }

  test('successive echoes decay by the feedback ratio (2 kHz burst, lowcut 20 Hz, highcut 10 kHz)', async () => {
    for (const fb of [0.3, 0.6]) {
      const e = await rig([
        ['/mod/probe1/signal', 2],
        ['/mod/probe1/freq', 2000],
        ['/mod/delay1/time', 0.2],
        ['/mod/delay1/feedback', fb],
      ]);
      try {
        const c = await fire(e, 1.05);
        const d = 0.2 * FS;
        const w = Math.round(0.005 * FS);
        const amps: number[] = [];
        for (let k = 1; k <= 5; k++) amps.push(Math.sqrt(energy(c.busL, k * d - w, k * d + 2 * w)));
        const ratios = amps.slice(1).map((a, i) => a / amps[i]);
        console.log(`  feedback ${fb}: echo ratios ${ratios.map((r) => r.toFixed(4)).join(', ')}`);
        for (const r of ratios) assert.ok(Math.abs(r - fb) < 0.02 * fb, `ratio ${r} vs feedback ${fb}`);
      } finally {
        await e.close();
      }
    }
  });

  test('changing the time while playing makes no discontinuity (tape-like glide, bounded steps)', async () => {
    const e = await rig([
      ['/mod/probe1/signal', 3],
      ['/mod/probe1/freq', 440],
      ['/mod/probe1/amp', 0.5],
      ['/mod/delay1/feedback', 0],
      ['/mod/delay1/time', 0.25],
    ]);
    try {
      await e.send('/gate/probe1', [1]);
      renderCapture(e, FS);
      const steady = renderCapture(e, FS / 2);
      const base = maxStep(steady.busL);
      await e.send('/mod/delay1/time', [0.5]);
      const moving = renderCapture(e, FS);
      await e.send('/mod/delay1/time', [0.1]);
      const back = renderCapture(e, FS);
      const up = maxStep(moving.busL);
      const down = maxStep(back.busL);
      console.log(`  max sample-to-sample step: steady ${base.toFixed(4)}, 0.25→0.5 s ${up.toFixed(4)}, 0.5→0.1 s ${down.toFixed(4)}`);
      // The read head runs at 0.5×–1.5× speed while gliding, so a sine's steps grow by at most 1.5×
      // (an instant jump of the read position would step by up to the full 2 × 0.5).
      assert.ok(up <= 1.55 * base, `rising time: ${up} vs ${base}`);
      assert.ok(down <= 1.55 * base, `falling time: ${down} vs ${base}`);
      assert.ok(moving.busL.every(Number.isFinite) && back.busL.every(Number.isFinite));
      const state = (await e.engine.audio.call('getState', 'delay', 'reload')) as { dsp: { delay: number } };
      assert.equal(state.dsp.delay, 0.1 * FS, 'arrived at the new time');
    } finally {
      await e.close();
    }
  });

  test('a hot reload keeps the echoes: after the kernel crossfade, sample for sample', async () => {
    const settings = [
      ['/mod/probe1/signal', 2],
      ['/mod/probe1/freq', 1500],
      ['/mod/delay1/time', 0.15],
      ['/mod/delay1/feedback', 0.7],
    ] as const;
    const a = await rig(settings);
    const b = await rig(settings);
    try {
      await fire(a, 0.5);
      await fire(b, 0.5);
      const plugin = b.engine.plugins.loaded.get('delay');
      assert.ok(plugin);
      await b.engine.plugins.load(plugin.folder);
      const ta = renderCapture(a, FS);
      const tb = renderCapture(b, FS);
      assert.ok(rms(tb.busL) > 1e-3, 'still echoing after the reload');
      const settled = Math.round(0.02 * FS);
      assert.deepEqual(tb.busL.subarray(settled), ta.busL.subarray(settled));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('feedback at its maximum with full-scale noise stays bounded, and the delay idles after the tail', async () => {
    const e = await rig([
      ['/mod/probe1/signal', 4],
      ['/mod/probe1/amp', 1],
      ['/mod/delay1/feedback', 0.7],
      ['/mod/delay1/time', 0.1],
      ['/mod/delay1/lowcut', 20],
      ['/mod/delay1/highcut', 10000],
    ]);
    try {
      const c = await fire(e, 3);
      assert.ok(c.busL.every(Number.isFinite));
      console.log(`  peak with full-scale noise and feedback 0.7: ${peak(c.busL).toFixed(2)}`);
      assert.ok(peak(c.busL) < 6);
      await e.send('/gate/probe1', [0]);
      renderCapture(e, 10 * FS);
      const state = (await e.engine.audio.call('getState', 'delay', 'reload')) as { dsp: { idle: boolean } };
      assert.equal(state.dsp.idle, true);
    } finally {
      await e.close();
    }
  });
});

describe('DelayDsp', () => {
  test('mono input runs one line; when the sides start to differ each side continues exactly', () => {
    const n = 256;
    const blocks = 40;
    const x = (b: number, i: number) => Math.sin((b * n + i) * 0.013) * 0.5;
    const y = (b: number, i: number) => (b < 20 ? x(b, i) : Math.cos((b * n + i) * 0.021) * 0.4);
    const run = (left: (b: number, i: number) => number, right: (b: number, i: number) => number) => {
      const dsp = new DelayDsp(FS, 0.6, n);
      const outL = new Float32Array(blocks * n);
      const outR = new Float32Array(blocks * n);
      for (let b = 0; b < blocks; b++) {
        const inL = new Float32Array(n).map((_, i) => left(b, i));
        const inR = new Float32Array(n).map((_, i) => right(b, i));
        dsp.setParams(0.11, 0.6, 1, 100, 5000);
        dsp.process(inL, inR, outL.subarray(b * n), outR.subarray(b * n), 0, n);
      }
      return { outL, outR };
    };
    const split = run(x, y); // identical for 20 blocks, then different
    const left = run(x, x);
    const right = run(y, y);
    assert.deepEqual(split.outL, left.outL);
    assert.deepEqual(split.outR, right.outR);
    assert.ok(rms(split.outR, 30 * n) > 0.05);
  });

  test('state round-trips; setState tolerates junk and other line lengths', () => {
    const a = new DelayDsp(FS);
    const x = new Float32Array(256).map((_, i) => Math.sin(i));
    const o = new Float32Array(256);
    a.setParams(0.1, 0.5, 1, 100, 5000);
    for (let k = 0; k < 30; k++) a.process(x, x, o, o, 0, 256);
    const b = new DelayDsp(FS);
    b.setParams(0.1, 0.5, 1, 100, 5000);
    b.setState(structuredClone(a.getState()));
    assert.deepEqual(b.getState(), a.getState());
    const c = new DelayDsp(44100);
    c.setState(a.getState());
    for (const junk of [null, 1, { lines: [1, 2] }, { filters: ['a'] }, { delay: -5 }]) c.setState(junk);
  });
});

/**
 * limiter1 (plugins/limiter): a +12 dB input (sine and noise at 4× full scale, driven into master by
 * the probe) never leaves above the ceiling; below the ceiling the limiter is a pure 1.5 ms delay;
 * gain recovers with the release time. The kernel hard-clips at ±1 after the master effects, so the
 * ceiling is set to -6 dB and the master bus (before that clip) is checked as well as the output.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LimiterDsp } from '../../plugins/limiter/dsp.ts';
import { errors, renderCapture, sendAll, startWith } from '../helpers/effect-engine.ts';
import type { OfflineEngine } from '../helpers/offline-engine.ts';
import { dbfs, peak, rms } from '../helpers/signal.ts';

const FS = 48000;
const CEILING_DB = -6;
const CEILING = Math.pow(10, CEILING_DB / 20);

async function rig(signal: number, amp: number): Promise<OfflineEngine> {
  const e = await startWith(['probe', 'limiter']);
  await sendAll(e, [
    ['/mod/probe1/signal', signal],
    ['/mod/probe1/freq', 440],
    ['/mod/probe1/amp', amp],
    ['/mod/limiter1/ceiling', CEILING_DB],
  ]);
  renderCapture(e, 4096);
  return e;
}

describe('limiter', () => {
  for (const [name, signal] of [
    ['sine', 3],
    ['white noise', 4],
  ] as const) {
    test(`a ${name} at +12 dB never leaves above a -6 dB ceiling`, async () => {
      const e = await rig(signal, 4);
      try {
        await e.send('/gate/probe1', [1]);
        const c = renderCapture(e, 2 * FS);
        const top = Math.max(peak(c.busL), peak(c.busR), peak(c.l), peak(c.r));
        console.log(`  ${name} ×4: output peak ${dbfs(top).toFixed(3)} dBFS, RMS ${dbfs(rms(c.busL)).toFixed(1)} dBFS (ceiling ${CEILING_DB} dB)`);
        assert.ok(top <= CEILING * (1 + 1e-6), `peak ${top} above ${CEILING}`);
        assert.ok(rms(c.busL) > 0.25 * CEILING, 'and it still plays loud');
        assert.deepEqual(errors(e), []);
      } finally {
        await e.close();
      }
    });
  }

  test('below the ceiling it is a pure 1.5 ms (72-sample) delay', async () => {
    const e = await rig(4, 0.4);
    const dry = await rig(4, 0.4);
    try {
      await e.send('/mod/limiter1/ceiling', [-1]);
      await dry.send('/mod/limiter1/ceiling', [-1]);
      const dryPlugin = dry.engine.plugins;
      await dryPlugin.unload('limiter');
      renderCapture(e, 4096);
      renderCapture(dry, 4096);
      await e.send('/gate/probe1', [1]);
      await dry.send('/gate/probe1', [1]);
      const w = renderCapture(e, FS);
      const d = renderCapture(dry, FS);
      const lag = 72;
      for (let i = lag; i < w.l.length; i++) {
        if (w.l[i] !== d.l[i - lag]) assert.fail(`sample ${i}: ${w.l[i]} vs ${d.l[i - lag]}`);
      }
    } finally {
      await e.close();
      await dry.close();
    }
  });

  test('the gain recovers after a loud burst, at the release time', async () => {
    const e = await rig(3, 4);
    try {
      await e.send('/mod/limiter1/release', [50]);
      await e.send('/gate/probe1', [1]);
      renderCapture(e, FS / 4);
      await e.send('/mod/probe1/amp', [0.25]); // now 6 dB under the ceiling
      const c = renderCapture(e, FS / 2);
      // Right after the drop the gain is still low; 0.3 s later (6 time constants) it is back to 1.
      const early = peak(c.busL, 200, 1200);
      const late = peak(c.busL, c.busL.length - 2400);
      console.log(`  after the burst: peak ${early.toFixed(3)} at 4–25 ms, ${late.toFixed(3)} after 0.45 s (input peak 0.25)`);
      assert.ok(early < 0.2, 'still reducing just after the burst');
      assert.ok(Math.abs(late - 0.25) < 0.005, 'recovered');
    } finally {
      await e.close();
    }
  });
});

describe('LimiterDsp', () => {
  test('brick wall on random bursts and single-sample spikes at every ceiling', () => {
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 0) / 4294967296;
    };
    for (const ceilingDb of [-12, -6, -1, 0]) {
      const c = Math.pow(10, ceilingDb / 20);
      const dsp = new LimiterDsp(FS);
      dsp.setParams(ceilingDb, 10);
      let worst = 0;
      for (let b = 0; b < 400; b++) {
        const l = new Float32Array(128);
        const r = new Float32Array(128);
        const level = rand() < 0.3 ? 8 * rand() : 0.5 * rand();
        for (let i = 0; i < 128; i++) {
          l[i] = (rand() * 2 - 1) * level;
          r[i] = (rand() * 2 - 1) * level * 0.5;
          if (rand() < 0.01) l[i] = rand() < 0.5 ? 16 : -16;
        }
        dsp.process(l, r, 0, 128);
        worst = Math.max(worst, peak(l), peak(r));
      }
      assert.ok(worst <= c, `ceiling ${ceilingDb} dB: peak ${worst}`);
    }
  });

  test('the gain ramps (no step larger than the look-ahead allows) and state round-trips', () => {
    const dsp = new LimiterDsp(FS);
    dsp.setParams(-6, 100);
    const n = 4096;
    const l = new Float32Array(n).fill(0.1);
    const r = new Float32Array(n).fill(0.1);
    l[2000] = 4; // a spike: the gain must ramp down over 73 samples before it, not jump
    dsp.process(l, r, 0, n);
    // Constant 0.1 in, so r shows the gain × 0.1 (delayed by 72): its steps are the gain's steps.
    let maxStep = 0;
    for (let i = 100; i < n; i++) maxStep = Math.max(maxStep, Math.abs(r[i] - r[i - 1]));
    assert.ok(maxStep < 0.1 / 60, `gain step ${maxStep / 0.1}`);
    assert.ok(Math.abs(l[2072]) <= 0.5012);
    const copy = new LimiterDsp(FS);
    copy.setState(structuredClone(dsp.getState()));
    assert.deepEqual(copy.getState(), dsp.getState());
    copy.setState({ lookahead: 5 });
    copy.setState(null);
  });
});

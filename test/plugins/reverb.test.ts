/**
 * reverb1 (plugins/reverb): decay time grows with room size (RT60 by Schroeder backward integration
 * of the impulse response), the left and right tails are decorrelated, the tail survives a hot
 * reload, and an unused reverb goes idle. Offline at 48 kHz: probe impulse → send:reverb →
 * reverb1 → master.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReverbDsp } from '../../plugins/reverb/dsp.ts';
import { errors, renderCapture, sendAll, startWith } from '../helpers/effect-engine.ts';
import type { OfflineEngine } from '../helpers/offline-engine.ts';
import { correlation, peak, rms, rt60 } from '../helpers/signal.ts';

const FS = 48000;

/** An engine with the probe set to fire a unit impulse into the reverb send only. */
async function impulseRig(room: number, damp = 0.5): Promise<OfflineEngine> {
  const e = await startWith(['probe', 'reverb']);
  await sendAll(e, [
    ['/mod/probe1/signal', 1],
    ['/mod/probe1/amp', 1],
    ['/mod/probe1/main', 0],
    ['/mod/probe1/reverb', 1],
    ['/mod/reverb1/mix', 1],
    ['/mod/reverb1/room', room],
    ['/mod/reverb1/damp', damp],
  ]);
  renderCapture(e, 1024);
  return e;
}

/** Fires the impulse at the next block and returns `seconds` of the master bus from that frame. */
async function impulseResponse(e: OfflineEngine, seconds: number) {
  const at = e.frame;
  await e.send('/gate/probe1', [1], at);
  const c = renderCapture(e, Math.round(seconds * FS));
  await e.send('/gate/probe1', [0]);
  assert.equal(c.frame0, at);
  return c;
}

describe('reverb', () => {
  test('RT60 grows with room (0.3 vs 0.9), both channels', async () => {
    const times: number[][] = [];
    for (const room of [0.3, 0.9]) {
      const e = await impulseRig(room);
      try {
        const ir = await impulseResponse(e, 8);
        times.push([rt60(ir.busL, FS), rt60(ir.busR, FS)]);
        assert.deepEqual(errors(e), []);
      } finally {
        await e.close();
      }
    }
    console.log(`  RT60 (T20, L/R): room 0.3 → ${times[0].map((t) => t.toFixed(2)).join('/')} s, room 0.9 → ${times[1].map((t) => t.toFixed(2)).join('/')} s`);
    for (let ch = 0; ch < 2; ch++) {
      assert.ok(times[0][ch] > 0.3 && times[0][ch] < 2, `room 0.3: ${times[0][ch]} s`);
      assert.ok(times[1][ch] > 2 * times[0][ch], `room 0.9 (${times[1][ch]} s) decays much slower than 0.3 (${times[0][ch]} s)`);
    }
  });

  test('the tails of L and R are decorrelated (|normalised cross-correlation| < 0.5)', async () => {
    const e = await impulseRig(0.7);
    try {
      const ir = await impulseResponse(e, 2);
      const from = Math.round(0.05 * FS);
      const to = Math.round(1.5 * FS);
      const c0 = correlation(ir.busL, ir.busR, from, to);
      let worst = 0;
      for (let lag = -64; lag <= 64; lag++) worst = Math.max(worst, Math.abs(correlation(ir.busL, ir.busR, from, to, lag)));
      console.log(`  L/R correlation of the tail: ${c0.toFixed(3)} at lag 0, at most ${worst.toFixed(3)} within ±64 samples`);
      assert.ok(Math.abs(c0) < 0.5, `correlation ${c0}`);
      assert.ok(rms(ir.busL, from, to) > 1e-4 && rms(ir.busR, from, to) > 1e-4, 'both channels ring');
    } finally {
      await e.close();
    }
  });

  test('a hot reload keeps the tail ringing: after the kernel crossfade, sample for sample', async () => {
    const a = await impulseRig(0.8);
    const b = await impulseRig(0.8);
    try {
      const ra = await impulseResponse(a, 0.5);
      const rb = await impulseResponse(b, 0.5);
      assert.deepEqual(rb.busL, ra.busL);
      // Reload b's plugin from its folder (as the file watcher would) in the middle of the tail.
      const plugin = b.engine.plugins.loaded.get('reverb');
      assert.ok(plugin);
      await b.engine.plugins.load(plugin.folder);
      const ta = renderCapture(a, FS);
      const tb = renderCapture(b, FS);
      assert.ok(rms(tb.busL) > 1e-4, 'still ringing after the reload');
      // The kernel crossfades old and new versions for 10 ms; once that is over, the new instance
      // (which started from the old one's state) plays exactly what an unreloaded reverb plays.
      const settled = Math.round(0.02 * FS);
      assert.deepEqual(tb.busL.subarray(settled), ta.busL.subarray(settled));
      assert.deepEqual(tb.busR.subarray(settled), ta.busR.subarray(settled));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('an unused reverb goes idle once its tail has died away', async () => {
    const e = await impulseRig(0.5);
    try {
      await impulseResponse(e, 0.1);
      const running = (await e.engine.audio.call('getState', 'reverb', 'reload')) as { dsp: { idle: boolean } };
      assert.equal(running.dsp.idle, false);
      const tail = renderCapture(e, 10 * FS);
      const state = (await e.engine.audio.call('getState', 'reverb', 'reload')) as { dsp: { idle: boolean } };
      assert.equal(state.dsp.idle, true);
      assert.ok(peak(tail.busL, tail.busL.length - FS) === 0, 'silent at the end');
    } finally {
      await e.close();
    }
  });
});

describe('ReverbDsp', () => {
  test('mix ramps instead of stepping; setState tolerates junk', () => {
    const dsp = new ReverbDsp(FS, 256);
    dsp.setParams(0, 0.5, 0.5);
    const inL = new Float32Array(256).fill(0.1);
    const outL = new Float32Array(256);
    const outR = new Float32Array(256);
    for (let b = 0; b < 20; b++) dsp.process(inL, inL, outL.fill(0), outR.fill(0), 0, 256);
    dsp.setParams(1, 0.5, 0.5);
    dsp.process(inL, inL, outL.fill(0), outR.fill(0), 0, 256);
    // The gain rises linearly from 0 over the span: the first sample is scaled by 1/256.
    assert.ok(Math.abs(outL[0]) < Math.abs(outL[255]) / 50);
    for (const junk of [null, 7, { v: 1, freeverb: { combs: [1, 2] } }, { freeverb: { combs: new Array(16).fill('x') } }]) dsp.setState(junk);
  });
});

/**
 * The sampler (plugins/sampler): a drum plays its sample from the exact frame of its gate, equal to
 * the data × amp at pitch 0; stereo files keep their sides; +12 semitones plays twice as fast (from
 * the sample band-limited an octave down: nothing folds back from above Nyquist) and −12 half as fast; decay falls 60 dB in its time; a retrigger fades the last hit out in 5 ms; a file
 * at another rate is converted; a gate value below 1 scales the hit; a sequencer track plays a drum.
 * Every assertion is on rendered samples (offline engine).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { octaveDown } from '../../plugins/sampler/octaves.ts';
import { firstSound, samplerEngine, wavBytes, type SamplerEngine } from '../helpers/sampler.ts';

/** 64 frames, exactly representable: ±(i + 1) / 64, alternating. */
const CLICK = Float32Array.from({ length: 64 }, (_, i) => ((i % 2 === 0 ? 1 : -1) * (i + 1)) / 64);
const DC = new Float32Array(48000).fill(0.5);
const SR = 48000;

describe('sampler: playback', () => {
  let s: SamplerEngine;
  before(async () => {
    s = await samplerEngine({
      'drum1-click.wav': wavBytes([CLICK]),
      'drum2-stereo.wav': wavBytes([CLICK, CLICK.map((x) => -x / 2)]),
      'drum3.wav': wavBytes([DC]),
      // 1 kHz at 24 kHz, 16-bit: converted to 48 kHz when loaded.
      'drum4-24k.wav': wavBytes([Float32Array.from({ length: 2400 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 24000))], 24000, '16'),
      'drum5-15k.wav': wavBytes([Float32Array.from({ length: 9600 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 15000 * i) / 48000))]),
      'drum6-3k.wav': wavBytes([Float32Array.from({ length: 9600 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 3000 * i) / 48000))]),
    });
  });
  after(() => s.close());

  /** Renders `frames` from now with a gate on `drum` at `offset` frames in; returns both channels. */
  async function hit(drum: string, offset: number, frames: number, value = 1): Promise<{ l: Float32Array; r: Float32Array }> {
    const { e } = s;
    await e.send(`/gate/${drum}`, [value], e.frame + offset);
    return e.render(0, frames);
  }

  test('a hit starts on the gate’s exact frame and is the data × amp (pitch 0)', async () => {
    const { e } = s;
    await e.send('/mod/drum1/amp', [0.5]);
    for (const offset of [0, 1, 255, 256, 300 + 17]) {
      const out = await hit('drum1', offset, 1024);
      assert.equal(firstSound(out.l), offset, `gate ${offset} frames into the render`);
      for (let i = 0; i < 1024; i++) {
        const want = i >= offset && i < offset + CLICK.length ? Math.fround(CLICK[i - offset] * 0.5) : 0;
        assert.equal(out.l[i], want, `frame ${i} (gate at ${offset})`);
        assert.equal(out.r[i], want, `right, frame ${i}`);
      }
    }
  });

  test('a stereo file keeps its two sides', async () => {
    const { e } = s;
    await e.send('/mod/drum2/amp', [1]);
    const out = await hit('drum2', 10, 128);
    for (let i = 0; i < CLICK.length; i++) {
      assert.equal(out.l[10 + i], CLICK[i]);
      assert.equal(out.r[10 + i], Math.fround(-CLICK[i] / 2));
    }
  });

  test('pitch +12 plays twice as fast, −12 half as fast', async () => {
    const { e } = s;
    await e.send('/mod/drum1/amp', [1]);
    await e.send('/mod/drum1/pitch', [12]);
    e.render(0.1); // past the pitch's smoothing
    let out = await hit('drum1', 0, 256);
    // Twice as fast from the sample an octave down (band-limited: the click's alternating signs sit
    // at Nyquist, and read every second frame they would all come out positive).
    const down = octaveDown(CLICK);
    for (let k = 0; k < CLICK.length / 2; k++) assert.equal(out.l[k], down[k], `+12: frame ${k}`);
    assert.ok(out.l.subarray(CLICK.length / 2).every((v) => v === 0), '+12: over in half the frames');

    await e.send('/mod/drum1/pitch', [-12]);
    e.render(0.1);
    out = await hit('drum1', 0, 256);
    for (let k = 0; k < CLICK.length; k++) assert.equal(out.l[2 * k], CLICK[k], `−12: frame ${2 * k}`);
    // In between: the Hermite read lies between its neighbours' extremes here (a smooth line through an alternating sign).
    assert.ok(Math.abs(out.l[1]) < Math.max(Math.abs(CLICK[0]), Math.abs(CLICK[1])));
    assert.ok(out.l.subarray(2 * CLICK.length).every((v) => v === 0), '−12: over in twice the frames');
    await e.send('/mod/drum1/pitch', [0]);
    e.render(0.1);
  });

  test('pitched up, nothing folds back from above Nyquist; what is below it plays at the new pitch', async () => {
    const { e } = s;
    const rms = (a: Float32Array, from: number, to: number) => Math.sqrt(a.subarray(from, to).reduce((sum, x) => sum + x * x, 0) / (to - from));
    for (const [pitch, drum] of [[12, 'drum5'], [24, 'drum5'], [19, 'drum6']] as const) {
      await e.send(`/mod/${drum}/amp`, [1]);
      await e.send(`/mod/${drum}/pitch`, [pitch]);
      e.render(0.1);
      const out = await hit(drum, 0, 4800);
      if (drum === 'drum5') {
        // 15 kHz, 0.5 peak, played at 30 or 60 kHz: above Nyquist, so it must not be heard (read
        // plainly it came back at 18 or 12 kHz, at full level).
        assert.ok(rms(out.l, 200, 2000) < 0.5 * 1e-3, `+${pitch}: ${rms(out.l, 200, 2000)} left of a 15 kHz tone`);
      } else {
        // 3 kHz at +19 (× 3.0): 9 kHz, within the band the octave keeps — same level, new pitch.
        // Within 1 dB: read two octaves down, 3 kHz sits at a quarter of that octave's rate, where the
        // 4-point Hermite read droops by about 0.5 dB.
        const ratio = Math.exp((19 * Math.LN2) / 12);
        const db = 20 * Math.log10(rms(out.l, 200, 1200) / (0.5 / Math.SQRT2));
        assert.ok(Math.abs(db) < 1, `+19: level ${db.toFixed(2)} dB`);
        let crossings = 0;
        for (let i = 201; i < 1200; i++) if (out.l[i - 1] < 0 !== out.l[i] < 0) crossings++;
        const hz = (crossings / 2) * (SR / 999);
        assert.ok(Math.abs(hz - 3000 * ratio) < 3000 * ratio * 0.02, `+19: ${hz.toFixed(0)} Hz`);
      }
      await e.send(`/mod/${drum}/pitch`, [0]);
      e.render(0.1);
    }
  });

  test('decay: a hit falls by 60 dB in the decay time, and ends', async () => {
    const { e } = s;
    await e.send('/mod/drum3/amp', [1]);
    await e.send('/mod/drum3/decay', [0.1]);
    const out = await hit('drum3', 0, SR / 4);
    assert.equal(out.l[0], 0.5);
    const at = out.l[0.1 * SR] / out.l[0];
    assert.ok(Math.abs(at / 0.001 - 1) < 0.01, `level after 0.1 s: ${at}`);
    assert.ok(out.l.subarray(0.2 * SR).every((v) => v === 0), 'ended below −80 dB');
    await e.send('/mod/drum3/decay', [10]);
  });

  test('a retrigger fades the hit still sounding out over 5 ms, without a step', async () => {
    const { e } = s;
    await e.send('/mod/drum3/amp', [1]);
    const out = await hit('drum3', 0, 4000);
    const again = await hit('drum3', 100, 2000);
    const fade = 0.005 * SR;
    assert.ok(out.l.every((v) => v === 0.5), 'one hit: the data');
    assert.equal(again.l[99], 0.5);
    // The new hit adds its full level at once; the old one falls in a straight line over 240 frames.
    for (let k = 0; k < fade; k++) {
      const want = 0.5 + 0.5 * (1 - k / fade);
      assert.ok(Math.abs(again.l[100 + k] - want) < 1e-4, `frame ${k} of the fade: ${again.l[100 + k]} (want ${want})`);
    }
    assert.ok(again.l.subarray(100 + fade + 1).every((v) => v === 0.5), 'then the new hit alone');
    e.render(1.1);
  });

  test('a gate value below 1 scales the hit (velocity)', async () => {
    const { e } = s;
    await e.send('/mod/drum1/amp', [1]);
    const out = await hit('drum1', 0, 128, 0.25);
    for (let i = 0; i < CLICK.length; i++) assert.equal(out.l[i], Math.fround(CLICK[i] * 0.25));
  });

  test('a file at another rate is converted to the engine’s: the same tone, twice the frames', async () => {
    const { e } = s;
    await e.send('/sampler/kit');
    const kit = JSON.parse(String(e.lastReply('/sampler/kit')?.args[0]));
    assert.equal(kit.drums.drum4.frames, 4800);
    assert.match(kit.drums.drum4.source, /16-bit int, 24000 Hz/);
    await e.send('/mod/drum4/amp', [1]);
    const out = await hit('drum4', 0, 4800);
    let err = 0;
    for (let i = 200; i < 4600; i++) err = Math.max(err, Math.abs(out.l[i] - 0.5 * Math.sin((2 * Math.PI * 1000 * i) / SR)));
    assert.ok(err < 1e-3, `largest error against a 1 kHz sine at 48 kHz: ${err}`);
  });

  test('/sampler/kit lists each drum’s sample; drums without a file are null', async () => {
    const { e } = s;
    await e.send('/sampler/kit');
    const kit = JSON.parse(String(e.lastReply('/sampler/kit')?.args[0]));
    assert.deepEqual(Object.keys(kit.drums), ['drum1', 'drum2', 'drum3', 'drum4', 'drum5', 'drum6', 'drum7', 'drum8']);
    assert.deepEqual(kit.drums.drum1, { file: 'samples/drum1-click.wav', frames: 64, channels: 1, source: '32-bit float, 48000 Hz' });
    assert.equal(kit.drums.drum2.channels, 2);
    assert.equal(kit.drums.drum7, null);
    assert.deepEqual(kit.refused, []);
    // A drum without a sample takes its gate and stays silent.
    const out = await hit('drum7', 0, 256);
    assert.ok(out.l.every((v) => v === 0));
  });
});

describe('sampler: a sequencer track plays a drum', () => {
  let s: SamplerEngine;
  before(async () => {
    s = await samplerEngine({ 'drum1-click.wav': wavBytes([CLICK]) }, { also: ['sequencer'] });
  });
  after(() => s.close());

  test('/seq/add with a drum as the voice: every hit on its step’s frame, amp = base_amp × velocity', async () => {
    const { e } = s;
    await e.send('/seq/add', ['kick', 'drum1', 'X...x...', 'base_amp=1']);
    assert.deepEqual(e.replies.filter((r) => r.address === '/error'), []);
    await e.send('/seq/bpm', [120]);
    await e.send('/seq/start');
    const step = (60 / 120 / 4) * SR; // 6000 frames
    const out = e.render(0, 8 * step + 100);
    const onsets: number[] = [];
    for (let i = 0; i < out.l.length; i++) if (out.l[i] !== 0 && (i === 0 || out.l[i - 1] === 0) && (onsets.length === 0 || i - onsets[onsets.length - 1] > 100)) onsets.push(i);
    assert.deepEqual(onsets, [0, 4 * step, 8 * step]);
    for (const [at, velocity] of [[0, 1], [4 * step, 0.6], [8 * step, 1]]) {
      for (let i = 0; i < CLICK.length; i++) assert.equal(out.l[at + i], Math.fround(CLICK[i] * velocity), `hit at ${at}, frame ${i}`);
    }
    await e.send('/seq/stop');
  });
});

describe('sampler: sends', () => {
  test('a drum takes a send/<bus> for every declared send bus; at 1 its hit reaches the send (the delay echoes it), at 0 nothing does', async () => {
    const s = await samplerEngine({ 'drum1-click.wav': wavBytes([CLICK]) }, { also: ['delay'] });
    try {
      const { e } = s;
      assert.ok(e.engine.router.has('/mod/drum1/send/delay'), 'the route exists');
      await e.send('/mod/drum1/amp', [1]);
      // The echo comes delay1's time after the hit; with the send at 0 the output is the dry click only.
      const echoAt = Math.round((e.engine.registry.values[e.engine.registry.param('delay1', 'time')!.index] ?? 0.25) * SR);
      const dry = async (): Promise<Float32Array> => {
        await e.send('/gate/drum1', [1], e.frame + 8);
        return e.render(0, echoAt + 4096).l;
      };
      const quiet = await dry();
      assert.equal(quiet.slice(8 + CLICK.length).some((x) => x !== 0), false, 'send 0: nothing after the click');
      await e.send('/mod/drum1/send/delay', [1]);
      e.render(0.1);
      const wet = await dry();
      assert.ok(wet.slice(8 + CLICK.length).some((x) => Math.abs(x) > 1e-3), 'send 1: the delay returns the click');
    } finally {
      await s.close();
    }
  });
});

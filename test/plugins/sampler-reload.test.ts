/**
 * The sampler's kit while it plays (engine watching its files): an edited WAV is read again by the
 * control half's own watch — not by a reload of the plugin's code — and the next hit plays it while a
 * hit already sounding finishes the old data; a corrupt or too long file is refused, named in a
 * notice, and the drum keeps its sample; a file removed silences its drum; a new one is picked up;
 * a new `maxSeconds` in config/local.json is applied to the kit.
 * The waits are for file events; every assertion on sound is on rendered samples.
 */
import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Reply } from '../helpers/offline-engine.ts';
import { samplerEngine, wavBytes, type SamplerEngine } from '../helpers/sampler.ts';

const ramp = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => (scale * (i + 1)) / n);
const A = ramp(64, 0.5);
const B = ramp(64, -0.25);
const LONG = ramp(48000, 0.75);
const LONG2 = new Float32Array(48000).fill(-0.125);

describe('sampler: samples change while it plays', () => {
  let s: SamplerEngine;
  before(async () => {
    s = await samplerEngine(
      { 'drum1-a.wav': wavBytes([A]), 'drum2-long.wav': wavBytes([LONG]) },
      { watch: true, configure: (c) => (c.plugins.sampler = { maxSeconds: 2 }) },
    );
    await s.e.send('/mod/drum1/amp', [1]);
    await s.e.send('/mod/drum2/amp', [1]);
  });
  after(() => s.close());

  /** Replaces samples/<name> the way an editor saving a file does: a temp file renamed over it. */
  async function save(name: string, bytes: Uint8Array): Promise<void> {
    const file = path.join(s.folder, 'samples', name);
    await writeFile(`${file}.tmp`, bytes);
    await rename(`${file}.tmp`, file);
  }

  /** Waits for a notice at `address` for `drum` that arrived after `since` replies. */
  function notice(address: string, drum: string, since: number): Promise<Reply> {
    return s.e.waitFor(address, (r) => s.e.replies.indexOf(r) >= since && r.args[0] === drum);
  }

  async function hit(drum: string, frames: number): Promise<Float32Array> {
    await s.e.send(`/gate/${drum}`, [1]);
    return s.e.render(0, frames).l;
  }

  test('an edited WAV plays on the next hit; the plugin’s code is not reloaded', async () => {
    const { e } = s;
    const slot = e.engine.plugins.loaded.get('sampler')?.slotId;
    const control = e.engine.plugins.controls.instance('sampler');
    assert.deepEqual(Array.from((await hit('drum1', 64))), Array.from(A));

    const since = e.replies.length;
    await save('drum1-a.wav', wavBytes([B]));
    const loaded = await notice('/sampler/loaded', 'drum1', since);
    assert.deepEqual(loaded.args, ['drum1', 'samples/drum1-a.wav', 64]);
    assert.deepEqual(Array.from(await hit('drum1', 64)), Array.from(B));

    await e.engine.watcher?.idle();
    assert.equal(e.engine.plugins.loaded.get('sampler')?.slotId, slot, 'the audio half was not reloaded');
    assert.equal(e.engine.plugins.controls.instance('sampler'), control, 'nor the control half');
    assert.equal(e.replies.filter((r) => r.address === '/engine/plugin/reloaded').length, 0);
  });

  test('a hit sounding when its file changes finishes the old data; the next plays the new', async () => {
    const { e } = s;
    const first = await hit('drum2', 1000);
    assert.deepEqual(Array.from(first), Array.from(LONG.subarray(0, 1000)));
    const since = e.replies.length;
    await save('drum2-long.wav', wavBytes([LONG2]));
    await notice('/sampler/loaded', 'drum2', since);
    // No torn read and no jump: the voice goes on through the old ramp to its end.
    const rest = e.render(0, 47000).l;
    assert.deepEqual(Array.from(rest), Array.from(LONG.subarray(1000)));
    const next = await hit('drum2', 48000);
    assert.ok(next.every((v) => v === -0.125));
    assert.ok(e.render(0, 100).l.every((v) => v === 0), 'and it ends');
  });

  test('a corrupt file is refused with a notice naming it; the drum keeps its sample', async () => {
    const { e } = s;
    const since = e.replies.length;
    await save('drum1-a.wav', new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WAVEnot really a wave file'));
    const refused = await notice('/sampler/refused', 'drum1', since);
    assert.equal(refused.args[1], 'samples/drum1-a.wav');
    assert.equal(refused.args[2], 'WAV_INVALID');
    const text = await e.waitFor('/engine/notice', (r) => e.replies.indexOf(r) >= since && r.args[0] === 'sampler');
    assert.match(String(text.args[1]), /samples\/drum1-a\.wav refused \(WAV_INVALID: .*\); drum1 keeps samples\/drum1-a\.wav/);
    assert.deepEqual(Array.from(await hit('drum1', 64)), Array.from(B), 'still the last good sample');

    await e.send('/sampler/kit');
    const kit = JSON.parse(String(e.lastReply('/sampler/kit')?.args[0]));
    assert.equal(kit.drums.drum1.frames, 64);
    assert.deepEqual(kit.refused.map((r: { drum: string; code: string }) => [r.drum, r.code]), [['drum1', 'WAV_INVALID']]);
  });

  test('a file longer than maxSeconds is refused (WAV_TOO_LARGE); a good one after it is taken', async () => {
    const { e } = s;
    let since = e.replies.length;
    await save('drum1-a.wav', wavBytes([new Float32Array(3 * 48000)]));
    const refused = await notice('/sampler/refused', 'drum1', since);
    assert.equal(refused.args[2], 'WAV_TOO_LARGE');
    assert.match(String(refused.args[3]), /3\.00 s long, more than the 2 s/);
    assert.deepEqual(Array.from(await hit('drum1', 64)), Array.from(B));

    since = e.replies.length;
    await save('drum1-a.wav', wavBytes([A]));
    await notice('/sampler/loaded', 'drum1', since);
    assert.deepEqual(Array.from(await hit('drum1', 64)), Array.from(A));
  });

  test('a file removed silences its drum; a new file gives a drum its sample', async () => {
    const { e } = s;
    let since = e.replies.length;
    await rm(path.join(s.folder, 'samples', 'drum1-a.wav'));
    await notice('/sampler/removed', 'drum1', since);
    assert.ok((await hit('drum1', 64)).every((v) => v === 0));

    since = e.replies.length;
    await save('drum5-new.wav', wavBytes([B]));
    const loaded = await notice('/sampler/loaded', 'drum5', since);
    assert.deepEqual(loaded.args, ['drum5', 'samples/drum5-new.wav', 64]);
    await e.send('/mod/drum5/amp', [1]);
    assert.deepEqual(Array.from(await hit('drum5', 64)), Array.from(B));
  });

  test('a longer maxSeconds in config/local.json takes a file it refused before', async () => {
    const { e } = s;
    let since = e.replies.length;
    await save('drum1-a.wav', wavBytes([new Float32Array(3 * 48000).fill(0.25)]));
    assert.equal((await notice('/sampler/refused', 'drum1', since)).args[2], 'WAV_TOO_LARGE');
    since = e.replies.length;
    await writeFile(path.join(e.root, 'config/local.json'), JSON.stringify({ plugins: { sampler: { maxSeconds: 4 } } }));
    const loaded = await notice('/sampler/loaded', 'drum1', since);
    assert.deepEqual(loaded.args, ['drum1', 'samples/drum1-a.wav', 3 * 48000]);
    assert.ok((await hit('drum1', 1000)).every((v) => v === 0.25));
  });
});

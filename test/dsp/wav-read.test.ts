/**
 * plugin-sdk/wav-read.ts `readWav`: every common format decodes to ±1 full scale, per channel,
 * matching what wavefile wrote (8-bit unsigned, 16/24/32-bit int, 32/64-bit float, big-endian RIFX,
 * WAVE_FORMAT_EXTENSIBLE, a bit depth that is not a whole number of bytes, A-law, µ-law); a file that is not a WAV, is cut short or is
 * over a limit is refused with a code and a message that says what was found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import wavefilePkg from 'wavefile';
import { readWav } from '../../plugin-sdk/index.ts';

const { WaveFile } = wavefilePkg;
const N = 500;
/** A test signal within ±0.9. */
const signal = (phase: number) => Float64Array.from({ length: N }, (_, i) => 0.9 * Math.sin(i / 7 + phase));

function written(depth: string, channels: number, options: { container?: string } = {}): { bytes: Uint8Array; want: Float64Array[] } {
  const want = Array.from({ length: channels }, (_, c) => signal(c));
  const bits = Number.parseInt(depth, 10);
  const float = depth === '32f' || depth === '64';
  const toFile = (x: number) => (float ? x : Math.round(x * 2 ** (bits - 1)) + (depth === '8' ? 128 : 0));
  const data = want.map((c) => Array.from(c, toFile));
  const wav = new WaveFile();
  wav.fromScratch(channels, 44100, depth, channels === 1 ? data[0] : data, options);
  return { bytes: wav.toBuffer(), want };
}

for (const [depth, tolerance] of [['8', 1 / 100], ['16', 1e-4], ['24', 1e-6], ['32', 1e-7], ['32f', 1e-7], ['64', 1e-7]] as const) {
  for (const channels of [1, 2]) {
    test(`${depth}-bit, ${channels} channel(s): decoded at full scale ±1`, () => {
      const { bytes, want } = written(depth, channels);
      const wav = readWav(bytes);
      assert.equal(wav.sampleRate, 44100);
      assert.equal(wav.frames, N);
      assert.equal(wav.channels.length, channels);
      for (let c = 0; c < channels; c++) {
        for (let i = 0; i < N; i++) assert.ok(Math.abs(wav.channels[c][i] - want[c][i]) <= tolerance, `channel ${c}, frame ${i}: ${wav.channels[c][i]} vs ${want[c][i]}`);
      }
    });
  }
}

test('big-endian RIFX and WAVE_FORMAT_EXTENSIBLE read like plain RIFF', () => {
  const plain = readWav(written('24', 2).bytes);
  assert.deepEqual(readWav(written('24', 2, { container: 'RIFX' }).bytes).channels, plain.channels);
  const ext = new WaveFile(written('24', 2).bytes);
  // Rewritten as WAVE_FORMAT_EXTENSIBLE with the PCM subformat.
  const fmt = ext.fmt as { audioFormat: number; chunkSize: number; cbSize: number; validBitsPerSample: number; subformat: number[] };
  Object.assign(fmt, { audioFormat: 0xfffe, chunkSize: 40, cbSize: 22, validBitsPerSample: 24, subformat: [1, 0x00100000, 0xaa000080, 0x719b3800] });
  const again = readWav(ext.toBuffer());
  assert.deepEqual(again.channels, plain.channels);
});

test('20 bits a sample in 3 bytes (plain PCM): wavefile’s decoder, scaled by 2^19', () => {
  const wav = new WaveFile();
  wav.fromScratch(1, 44100, '24', [0, 100, -100, 524287, -524288]);
  (wav.fmt as { bitsPerSample: number }).bitsPerSample = 20;
  const read = readWav(wav.toBuffer());
  assert.equal(read.format, '20-bit int');
  assert.deepEqual(Array.from(read.channels[0]), [0, 100, -100, 524287, -524288].map((x) => Math.fround(x / 2 ** 19)));
});

test('A-law and µ-law expand to within their step', () => {
  for (const [convert, name] of [['toALaw', 'A-law'], ['toMuLaw', 'µ-law']] as const) {
    const { bytes, want } = written('16', 1);
    const wav = new WaveFile(bytes);
    wav[convert]();
    const read = readWav(wav.toBuffer());
    assert.equal(read.format, name);
    for (let i = 0; i < N; i++) assert.ok(Math.abs(read.channels[0][i] - want[0][i]) < 0.02, `${name} frame ${i}`);
  }
});

test('NaN and infinities in a float file become 0', () => {
  const wav = new WaveFile();
  wav.fromScratch(1, 48000, '32f', [0.5, Number.NaN, Number.POSITIVE_INFINITY, -0.25]);
  assert.deepEqual(Array.from(readWav(wav.toBuffer()).channels[0]), [0.5, 0, 0, -0.25]);
});

test('refused: not a WAV, cut short, no audio, over a limit, an unsupported format — each with a code', () => {
  const good = written('16', 2).bytes;
  const refuse = (bytes: Uint8Array, code: string, message: RegExp, limits = {}) =>
    assert.throws(() => readWav(bytes, limits), (e: Error & { code?: string }) => {
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  refuse(new Uint8Array(8), 'WAV_INVALID', /8 bytes: too short/);
  refuse(new TextEncoder().encode('this is not a wave file at all'), 'WAV_INVALID', /not a WAV file/);
  refuse(good.slice(0, 40), 'WAV_INVALID', /not a WAV file|no audio/);
  refuse(good.slice(0, 46), 'WAV_INVALID', /no audio/);
  refuse(good, 'WAV_TOO_LARGE', /bytes, more than the 100 allowed/, { maxBytes: 100 });
  refuse(good, 'WAV_TOO_LARGE', /500 frames, more than the 499 allowed/, { maxFrames: 499 });
  refuse(good, 'WAV_TOO_LARGE', /2 channels, more than the 1 allowed/, { maxChannels: 1 });
  const adpcm = new WaveFile();
  adpcm.fromScratch(1, 8000, '16', Array.from({ length: 1000 }, (_, i) => Math.round(1000 * Math.sin(i))));
  adpcm.toIMAADPCM();
  refuse(adpcm.toBuffer(), 'WAV_UNSUPPORTED', /sample format 17/);
  // A file cut in the middle of its data: the whole frames there are read.
  assert.equal(readWav(good.slice(0, 44 + 4 * 100 + 3)).frames, 100);
});

/**
 * Streaming WAV writer (plugin-sdk/wav, here on plain paths through cli/render/wav-file.ts): formats, header kept valid while writing, killed
 * writers, RF64, and error paths. Files are checked with independent readers: wavefile, sox, and a
 * small RIFF parser in this file that shares no code with the writer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnChild } from './helpers/child.ts';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import wavefilePkg from 'wavefile';
import { WavWriterError, type WavSampleFormat, type WavWriter } from '../plugin-sdk/wav/index.ts';
import { openWavFile as openWavWriter } from '../cli/render/wav-file.ts';

// wavefile 11 is a UMD/CommonJS bundle without an `exports` map: under ESM only the default import
// (module.exports) works, and it holds the WaveFile class.
const { WaveFile } = wavefilePkg;

const run = promisify(execFile);
const WRITER_URL = pathToFileURL(fileURLToPath(new URL('../cli/render/wav-file.ts', import.meta.url))).href;

const BITS: Record<WavSampleFormat, number> = { int16: 16, int24: 24, float32: 32 };
const FORMATS: readonly WavSampleFormat[] = ['int16', 'int24', 'float32'];

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'chronus-wav-'));
  try {
    return await fn(dir);
  } finally {
    await chmod(dir, 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deterministic test signal: value of channel `c` at frame `i` (a mix of sines, with some overs). */
function sampleAt(i: number, c: number): number {
  return 0.9 * Math.sin(i * (0.013 + 0.007 * c)) + 0.25 * Math.sin(i * 0.29 + c);
}

function makeSignal(frames: number, channels: number, first = 0): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const a = new Float32Array(frames);
    for (let i = 0; i < frames; i++) a[i] = sampleAt(first + i, c);
    out.push(a);
  }
  return out;
}

/** Append `signal` in pieces of awkward sizes (1, 7, 255, 1023, 3001 frames, …). */
async function appendInPieces(w: WavWriter, signal: Float32Array[], sizes = [1, 7, 255, 1023, 3001, 13, 4097]): Promise<number> {
  const frames = signal[0].length;
  let at = 0;
  let k = 0;
  let calls = 0;
  while (at < frames) {
    const n = Math.min(sizes[k++ % sizes.length], frames - at);
    await w.append(signal.map((ch) => ch.subarray(at, at + n)), n);
    at += n;
    calls++;
  }
  return calls;
}

/** What the file should hold for input sample x, as a float in [-1, 1] (int) or the float32 value. */
function expected(x: number, format: WavSampleFormat): number {
  if (format === 'float32') return Number.isFinite(x) ? Math.fround(x) : 0;
  if (Number.isNaN(x)) return 0;
  return Math.max(-1, Math.min(1, x));
}

function fullScale(format: WavSampleFormat): number {
  return format === 'int16' ? 32767 : format === 'int24' ? 8388607 : 1;
}

/** Check interleaved decoded values (raw ints for PCM, floats for float32) against the signal. */
function assertSamples(decoded: ArrayLike<number>, signal: Float32Array[], format: WavSampleFormat, what: string): void {
  const channels = signal.length;
  const frames = signal[0].length;
  assert.equal(decoded.length, frames * channels, `${what}: sample count`);
  const scale = fullScale(format);
  // Quantisation tolerance: half a step plus float slack; exact for float32.
  const tol = format === 'float32' ? 0 : 0.5 / scale + 1e-9;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const got = decoded[i * channels + c] / scale;
      const want = expected(signal[c][i], format);
      if (!(Math.abs(got - want) <= tol)) {
        assert.fail(`${what}: frame ${i} channel ${c}: read ${got}, expected ${want} ± ${tol}`);
      }
    }
  }
}

interface WavefileReadback {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  audioFormat: number;
  samples: Float64Array;
}

function readWithWavefile(bytes: Uint8Array): WavefileReadback {
  const wav = new WaveFile(bytes);
  // wavefile types `fmt` as `object`; these are the fields it fills in (see its README).
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; bitsPerSample: number; audioFormat: number };
  return {
    channels: fmt.numChannels,
    sampleRate: fmt.sampleRate,
    bitsPerSample: fmt.bitsPerSample,
    audioFormat: fmt.audioFormat,
    samples: wav.getSamples(true, Float64Array),
  };
}

interface SoxInfo {
  channels: number;
  rate: number;
  bits: number;
  frames: number;
  encoding: string;
}

async function soxInfo(path: string): Promise<SoxInfo> {
  const { stdout } = await run('sox', ['--i', path]);
  const field = (name: string): string => {
    const m = new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(stdout);
    assert.ok(m, `sox --i ${path}: no "${name}" in:\n${stdout}`);
    return m[1].trim();
  };
  // `sox --i` leaves out the Duration line of an empty file; `-s` always prints the frame count.
  const frames = (await run('sox', ['--i', '-s', path])).stdout.trim();
  const bits = (await run('sox', ['--i', '-b', path])).stdout.trim();
  return {
    channels: Number(field('Channels')),
    rate: Number(field('Sample Rate')),
    bits: Number(bits),
    frames: Number(frames),
    encoding: field('Sample Encoding'),
  };
}

interface ParsedWav {
  container: string;
  riffSize: number;
  chunks: { id: string; offset: number; size: number }[];
  ds64?: { riffSize: bigint; dataSize: bigint; sampleCount: bigint; tableLength: number };
  dataOffset: number;
  /** Data size from ds64 when RF64, else from the data chunk. */
  dataBytes: number;
}

/** Independent RIFF/RF64 walker (EBU Tech 3306 ds64 layout: low word first). Stops at the data chunk. */
function parseWav(buf: Buffer): ParsedWav {
  const container = buf.toString('latin1', 0, 4);
  assert.ok(container === 'RIFF' || container === 'RF64', `container ${container}`);
  assert.equal(buf.toString('latin1', 8, 12), 'WAVE');
  const chunks: ParsedWav['chunks'] = [];
  let ds64: ParsedWav['ds64'];
  let at = 12;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    chunks.push({ id, offset: at, size });
    if (id === 'ds64') {
      ds64 = {
        riffSize: buf.readBigUInt64LE(at + 8),
        dataSize: buf.readBigUInt64LE(at + 16),
        sampleCount: buf.readBigUInt64LE(at + 24),
        tableLength: buf.readUInt32LE(at + 32),
      };
    }
    if (id === 'data') {
      const dataBytes = container === 'RF64' && size === 0xffffffff && ds64 ? Number(ds64.dataSize) : size;
      return { container, riffSize: buf.readUInt32LE(4), chunks, ds64, dataOffset: at + 8, dataBytes };
    }
    at += 8 + size + (size & 1);
  }
  assert.fail('no data chunk');
}

/** Decode little-endian PCM/float bytes to numbers (raw ints for PCM). */
function decodeRaw(bytes: Buffer, format: WavSampleFormat): Float64Array {
  const width = BITS[format] / 8;
  const out = new Float64Array(Math.floor(bytes.length / width));
  for (let k = 0; k < out.length; k++) {
    const o = k * width;
    out[k] = format === 'int16' ? bytes.readInt16LE(o) : format === 'int24' ? bytes.readIntLE(o, 3) : bytes.readFloatLE(o);
  }
  return out;
}

for (const format of FORMATS) {
  for (const channels of [1, 2]) {
    test(`${format} ${channels === 1 ? 'mono' : 'stereo'}: odd-sized appends read back by wavefile and sox`, async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, `${format}-${channels}.wav`);
        const frames = 12_345; // odd: int24 mono gets an odd data chunk and a pad byte
        const signal = makeSignal(frames, channels);
        signal[0][100] = 1.5; // clipped for ints
        signal[0][101] = -3;
        signal[0][102] = Number.NaN; // 0
        signal[channels - 1][103] = 1;
        signal[channels - 1][104] = -1;
        // A small chunk size so the ~1 MB batching path (chunk full → write) runs many times.
        const w = await openWavWriter(path, { sampleRate: 44_100, channels, format, chunkBytes: 4096 });
        const empty = makeSignal(0, channels);
        await w.append(empty, 0); // zero frames is a no-op
        const calls = await appendInPieces(w, signal);
        assert.ok(calls > 5);
        assert.equal(w.framesWritten, frames);
        assert.equal(await w.close(), frames);

        const bytes = await readFile(path);
        const parsed = parseWav(bytes);
        const width = BITS[format] / 8;
        const dataBytes = frames * channels * width;
        const pad = dataBytes & 1;
        assert.equal(parsed.container, 'RIFF');
        assert.deepEqual(parsed.chunks.map((c) => c.id), format === 'float32' ? ['JUNK', 'fmt ', 'fact', 'data'] : ['JUNK', 'fmt ', 'data']);
        assert.equal(parsed.chunks[0].size, 28, 'JUNK reserves 28 bytes for ds64');
        assert.equal(parsed.dataBytes, dataBytes);
        assert.equal(bytes.length, parsed.dataOffset + dataBytes + pad, 'file = header + data (+ pad byte only if odd)');
        assert.equal(parsed.riffSize, bytes.length - 8);
        if (format === 'float32') {
          const fact = parsed.chunks[2];
          assert.equal(bytes.readUInt32LE(fact.offset + 8), frames, 'fact sample length');
        }

        const wf = readWithWavefile(bytes);
        assert.equal(wf.channels, channels);
        assert.equal(wf.sampleRate, 44_100);
        assert.equal(wf.bitsPerSample, BITS[format]);
        assert.equal(wf.audioFormat, format === 'float32' ? 3 : 1);
        assertSamples(wf.samples, signal, format, 'wavefile');

        const sox = await soxInfo(path);
        assert.deepEqual(
          { channels: sox.channels, rate: sox.rate, bits: sox.bits, frames: sox.frames },
          { channels, rate: 44_100, bits: BITS[format], frames },
        );
        assert.match(sox.encoding, format === 'float32' ? /Floating Point/ : /Signed Integer/);
      });
    });
  }
}

test('conversion: clip, round to nearest, NaN → 0; float32 keeps overs and zeroes non-finite values', async () => {
  await withTempDir(async (dir) => {
    const input = Float32Array.from([0, 1, -1, 2, -2, 0.5, -0.5, Number.NaN, Infinity, -Infinity, 1e-6, -1e-6]);
    const want: Record<WavSampleFormat, number[]> = {
      int16: [0, 32767, -32767, 32767, -32767, 16384, -16383, 0, 32767, -32767, 0, 0],
      int24: [0, 8388607, -8388607, 8388607, -8388607, 4194304, -4194303, 0, 8388607, -8388607, 8, -8],
      float32: [0, 1, -1, 2, -2, 0.5, -0.5, 0, 0, 0, Math.fround(1e-6), Math.fround(-1e-6)],
    };
    for (const format of FORMATS) {
      const path = join(dir, `${format}.wav`);
      const w = await openWavWriter(path, { sampleRate: 48_000, channels: 1, format });
      await w.append([input]);
      await w.close();
      const bytes = await readFile(path);
      const { dataOffset, dataBytes } = parseWav(bytes);
      assert.deepEqual(Array.from(decodeRaw(bytes.subarray(dataOffset, dataOffset + dataBytes), format)), want[format], format);
    }
  });
});

test('int24 stereo (converted in wasm): the definition to the sample, over appends of every length', async () => {
  await withTempDir(async (dir) => {
    const frames = 5000;
    const special = [0, -0, 1, -1, 2, -2, Number.NaN, Infinity, -Infinity, 1e-6, -1e-6, 1e-40, 0.5 / 8388607, 2.5 / 8388607, -2.5 / 8388607, 8388606.5 / 8388607];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2.4 - 1.2;
    const l = Float32Array.from({ length: frames }, (_, i) => (i % 13 === 0 ? special[(i / 13) % special.length] : random()));
    const r = Float32Array.from({ length: frames }, (_, i) => (i % 11 === 0 ? -special[(i / 11) % special.length] : random()));
    const path = join(dir, 'stereo.wav');
    const w = await openWavWriter(path, { sampleRate: 48_000, channels: 2, format: 'int24' });
    let at = 0;
    for (const n of [1, 7, 1024, 1500, 3, 2048]) {
      await w.append([l.subarray(at, at + n), r.subarray(at, at + n)], n);
      at += n;
    }
    await w.append([l.subarray(at), r.subarray(at)], frames - at);
    await w.close();
    const bytes = await readFile(path);
    const { dataOffset, dataBytes } = parseWav(bytes);
    const got = decodeRaw(bytes.subarray(dataOffset, dataOffset + dataBytes), 'int24');
    const M = 8388607;
    const q = (x: number) => (x !== x ? 0 : Math.min(M, Math.max(-M, Math.floor(x * M + 0.5))));
    for (let i = 0; i < frames; i++) {
      assert.equal(got[2 * i], q(l[i]), `left ${i}: ${l[i]}`);
      assert.equal(got[2 * i + 1], q(r[i]), `right ${i}: ${r[i]}`);
    }
  });
});

test('header stays valid while writing: a copy after sync() reads back with the synced frame count', async () => {
  await withTempDir(async (dir) => {
    // int24 mono syncs at an odd data length: the pad byte written at sync is overwritten by later audio.
    for (const [format, channels] of [['int24', 2], ['float32', 2], ['int24', 1]] as const) {
      const path = join(dir, `live-${format}-${channels}.wav`);
      const copy = join(dir, `copy-${format}-${channels}.wav`);
      const signal = makeSignal(30_001, channels);
      const w = await openWavWriter(path, { sampleRate: 48_000, channels, format, chunkBytes: 8192 });

      // Freshly opened: an empty but valid file.
      await copyFile(path, copy);
      assert.equal((await soxInfo(copy)).frames, 0);

      await w.append(signal.map((c) => c.subarray(0, 10_001)));
      const info = await w.sync();
      assert.deepEqual(info, { frames: 10_001, dataBytes: 10_001 * channels * (BITS[format] / 8), rf64: false });
      // More audio after the sync: the header lags, readers see the synced length.
      await w.append(signal.map((c) => c.subarray(10_001, 25_000)));
      await copyFile(path, copy);
      assert.equal((await soxInfo(copy)).frames, 10_001);
      const wf = readWithWavefile(await readFile(copy));
      assertSamples(wf.samples, signal.map((c) => c.subarray(0, 10_001)), format, 'copy after first sync');

      await w.append(signal.map((c) => c.subarray(25_000)));
      assert.equal((await w.sync()).frames, 30_001);
      await copyFile(path, copy);
      assert.equal((await soxInfo(copy)).frames, 30_001);
      assertSamples(readWithWavefile(await readFile(copy)).samples, signal, format, 'copy after second sync');
      assert.equal(await w.close(), 30_001);
    }
  });
});

test('appends that are not awaited are still written in order', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'burst.wav');
    const signal = makeSignal(50_000, 2);
    const w = await openWavWriter(path, { sampleRate: 48_000, channels: 2, format: 'int16', chunkBytes: 1024 });
    const pending: Promise<void>[] = [];
    for (let at = 0; at < 50_000; at += 999) {
      const n = Math.min(999, 50_000 - at);
      pending.push(w.append(signal.map((c) => c.subarray(at, at + n)), n));
    }
    const syncing = w.sync();
    await Promise.all(pending);
    assert.equal((await syncing).frames, 50_000);
    await w.close();
    assertSamples(readWithWavefile(await readFile(path)).samples, signal, 'int16', 'burst');
  });
});

/** Child script: write a deterministic signal forever, sync every `syncEvery` appends, report each sync. */
function childScript(path: string, format: WavSampleFormat, syncEvery: number, chunkBytes = 16384): string {
  return `
import { openWavFile as openWavWriter } from ${JSON.stringify(WRITER_URL)};
const channels = 2, block = 1000;
const sampleAt = ${sampleAt.toString()};
const w = await openWavWriter(${JSON.stringify(path)}, { sampleRate: 48000, channels, format: ${JSON.stringify(format)}, chunkBytes: ${chunkBytes} });
const bufs = [new Float32Array(block), new Float32Array(block)];
let frame = 0;
try {
  for (let k = 1; frame < 48000 * 600; k++) {
    for (let c = 0; c < channels; c++) for (let i = 0; i < block; i++) bufs[c][i] = sampleAt(frame + i, c);
    await w.append(bufs, block);
    frame += block;
    if (k % ${syncEvery} === 0) {
      const info = await w.sync();
      process.stdout.write('synced ' + info.frames + '\\n');
    }
  }
} catch (err) {
  process.stdout.write('error ' + JSON.stringify({ code: err.code, errno: err.errno, message: err.message, synced: w.lastSync.frames }) + '\\n');
  await w.close().catch(() => undefined);
  process.exit(3);
}
`;
}


test('a writer killed mid-write (SIGKILL) leaves a valid file with at least the synced frames', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'killed.wav');
    const script = join(dir, 'writer-child.mts');
    // 4 KiB chunks: every 1000-frame append writes; syncs are 50 appends apart, the kill comes 25 ms
    // after the third sync, so it lands among unsynced writes.
    await writeFile(script, childScript(path, 'int24', 50, 4096));
    let lastSynced = 0;
    let syncs = 0;
    const exit = await spawnChild(process.execPath, ['--import', 'tsx', script], (line, kill) => {
      const m = /^synced (\d+)$/.exec(line);
      if (!m) return;
      lastSynced = Number(m[1]);
      if (++syncs === 3) setTimeout(kill, 25);
    });
    assert.equal(exit.signal, 'SIGKILL', `child did not die by SIGKILL: ${exit.code} ${exit.stderr}`);
    assert.ok(lastSynced >= 3 * 50 * 1000, `synced ${lastSynced}`);

    const bytes = await readFile(path);
    const parsed = parseWav(bytes);
    const frames = parsed.dataBytes / 6;
    assert.ok(Number.isInteger(frames));
    assert.ok(frames >= lastSynced, `file has ${frames} frames, ${lastSynced} were synced before the kill`);
    assert.ok(bytes.length >= parsed.dataOffset + parsed.dataBytes);
    t.diagnostic(`killed after ${lastSynced} synced frames; file covers ${frames}, ${bytes.length - parsed.dataOffset - parsed.dataBytes} bytes written past the header's size`);

    const sox = await soxInfo(path);
    assert.equal(sox.frames, frames);
    assert.equal(sox.channels, 2);
    assert.equal(sox.bits, 24);
    const wf = readWithWavefile(bytes);
    assertSamples(wf.samples, makeSignal(frames, 2), 'int24', 'killed file');
    await run('sox', [path, '-n', 'stat']); // decodes the whole file without error
  });
});

test('RF64: past rf64ThresholdBytes the header becomes RF64 with a correct ds64, read by sox', async () => {
  await withTempDir(async (dir) => {
    for (const [format, channels] of [['int24', 2], ['float32', 1], ['int24', 1]] as const) {
      const path = join(dir, `big-${format}-${channels}.wav`);
      const width = BITS[format] / 8;
      const frames = Math.ceil((300 * 1024) / (width * channels)) | 1; // ~300 KiB, odd frame count
      const signal = makeSignal(frames, channels);
      const w = await openWavWriter(path, { sampleRate: 48_000, channels, format, rf64ThresholdBytes: 64 * 1024, chunkBytes: 8192 });
      // Sync below the threshold (still RIFF), then cross it mid-stream.
      const first = Math.floor((32 * 1024) / (width * channels));
      await w.append(signal.map((c) => c.subarray(0, first)));
      assert.equal((await w.sync()).rf64, false);
      assert.equal((await readFile(path)).toString('latin1', 0, 4), 'RIFF');
      await appendInPieces(w, signal.map((c) => c.subarray(first, 40_000)));
      const mid = await w.sync();
      assert.equal(mid.rf64, true);
      // A copy taken after the switch and before close reads back with the synced length.
      const copy = join(dir, 'rf64-copy.wav');
      await copyFile(path, copy);
      assert.equal((await soxInfo(copy)).frames, mid.frames);
      await w.append(signal.map((c) => c.subarray(40_000)));
      assert.equal(await w.close(), frames);
      assert.equal(w.isRf64, true);

      const bytes = await readFile(path);
      const parsed = parseWav(bytes);
      const dataBytes = frames * channels * width;
      const pad = dataBytes & 1;
      assert.equal(parsed.container, 'RF64');
      assert.equal(parsed.riffSize, 0xffffffff);
      assert.equal(parsed.chunks[0].id, 'ds64');
      assert.equal(parsed.chunks[0].offset, 12, 'ds64 is the first chunk');
      assert.equal(parsed.chunks[0].size, 28);
      assert.deepEqual(parsed.ds64, {
        riffSize: BigInt(bytes.length - 8),
        dataSize: BigInt(dataBytes),
        sampleCount: BigInt(frames),
        tableLength: 0,
      });
      const dataChunk = parsed.chunks[parsed.chunks.length - 1];
      assert.equal(dataChunk.size, 0xffffffff, 'data size is -1 in RF64');
      if (format === 'float32') {
        const fact = parsed.chunks.find((c) => c.id === 'fact');
        assert.ok(fact);
        assert.equal(bytes.readUInt32LE(fact.offset + 8), 0xffffffff, 'fact length is -1 in RF64');
      }
      assert.equal(bytes.length, parsed.dataOffset + dataBytes + pad);

      const sox = await soxInfo(path);
      assert.deepEqual(
        { channels: sox.channels, rate: sox.rate, bits: sox.bits, frames: sox.frames },
        { channels, rate: 48_000, bits: BITS[format], frames },
      );
      const stat = await run('sox', [path, '-n', 'stat']);
      const read = /Samples read:\s+(\d+)/.exec(stat.stderr);
      assert.ok(read, stat.stderr);
      assert.equal(Number(read[1]), frames * channels);

      // The data is continuous across the switch: our parser and sox's raw output both match the signal.
      const ours = bytes.subarray(parsed.dataOffset, parsed.dataOffset + dataBytes);
      assertSamples(decodeRaw(ours, format), signal, format, 'RF64 data (own parser)');
      const raw = join(dir, 'out.raw');
      const enc = format === 'float32' ? ['-e', 'floating-point'] : ['-e', 'signed-integer'];
      await run('sox', [path, '-t', 'raw', '-L', '-b', String(BITS[format]), ...enc, raw]);
      const soxRaw = await readFile(raw);
      if (format === 'float32') {
        // sox decodes through 32-bit integers: float32 comes back clipped to ±1 and within ~2^-25.
        const a = decodeRaw(soxRaw, format);
        const b = decodeRaw(ours, format).map((x) => Math.max(-1, Math.min(1, x)));
        assert.equal(a.length, b.length);
        for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) <= 1e-7, `sox raw sample ${k}: ${a[k]} vs ${b[k]}`);
      } else {
        assert.ok(soxRaw.equals(ours), 'sox raw output equals the data chunk');
      }
      await rm(raw);
    }
  });
});

test('an unwritable path rejects with WAV_OPEN_FAILED naming the path', async () => {
  await withTempDir(async (dir) => {
    const options = { sampleRate: 48_000, channels: 2, format: 'int16' } as const;
    const missing = join(dir, 'no-such-folder', 'take.wav');
    await assert.rejects(openWavWriter(missing, options), (err: unknown) => {
      assert.ok(err instanceof WavWriterError);
      assert.equal(err.code, 'WAV_OPEN_FAILED');
      assert.equal(err.errno, 'ENOENT');
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });

    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    const underFile = join(file, 'take.wav');
    await assert.rejects(openWavWriter(underFile, options), (err: unknown) => {
      assert.ok(err instanceof WavWriterError && err.message.includes(underFile) && err.errno === 'ENOTDIR', String(err));
      return true;
    });

    // Never overwrites unless asked.
    await assert.rejects(openWavWriter(file, options), (err: unknown) => {
      assert.ok(err instanceof WavWriterError && err.errno === 'EEXIST' && err.message.includes(file), String(err));
      return true;
    });
    const w = await openWavWriter(file, { ...options, overwrite: true });
    assert.equal(await w.close(), 0);
    assert.equal((await soxInfo(file)).frames, 0);

    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o500);
      const denied = join(locked, 'take.wav');
      await assert.rejects(openWavWriter(denied, options), (err: unknown) => {
        assert.ok(err instanceof WavWriterError && err.errno === 'EACCES' && err.message.includes(denied), String(err));
        return true;
      });
    }
  });
});

test('bad options and bad input are refused with a clear message', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'x.wav');
    await assert.rejects(openWavWriter(path, { sampleRate: 48_000, channels: 0, format: 'int16' }), /WAV_BAD_OPTIONS: .*channels/);
    await assert.rejects(
      openWavWriter(path, { sampleRate: 48_000, channels: 2, format: 'int8' as WavSampleFormat }),
      /WAV_BAD_OPTIONS: .*format/,
    );
    await assert.rejects(
      openWavWriter(path, { sampleRate: 48_000, channels: 2, format: 'int16', rf64ThresholdBytes: 2 ** 33 }),
      /rf64ThresholdBytes/,
    );
    const w = await openWavWriter(path, { sampleRate: 48_000, channels: 2, format: 'int16' });
    await assert.rejects(w.append([new Float32Array(4)]), /WAV_BAD_INPUT: .*expected 2 channel/);
    await assert.rejects(w.append([new Float32Array(4), new Float32Array(2)], 4), /WAV_BAD_INPUT: .*channel 1/);
    await w.close();
    await assert.rejects(w.append([new Float32Array(4), new Float32Array(4)]), /WAV_CLOSED/);
    await assert.rejects(w.sync(), /WAV_CLOSED/);
    assert.equal(await w.close(), 0, 'close is idempotent');
  });
});

test('a write failure mid-recording (file size limit) rejects naming the path; the file stays valid to the last sync', { skip: process.platform !== 'linux' }, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'limited.wav');
    const script = join(dir, 'limited-child.mts');
    await writeFile(script, childScript(path, 'int16', 3));
    let report: { code: string; errno: string; message: string; synced: number } | undefined;
    let lastSynced = 0;
    // RLIMIT_FSIZE of 256 KiB with SIGXFSZ ignored: writes past it fail with EFBIG, like a full disk.
    const cmd = `trap '' XFSZ; ulimit -f 256; exec "$0" --import tsx "$1"`;
    const exit = await spawnChild('bash', ['-c', cmd, process.execPath, script], (line) => {
      const synced = /^synced (\d+)$/.exec(line);
      if (synced) lastSynced = Number(synced[1]);
      if (line.startsWith('error ')) report = JSON.parse(line.slice(6)) as typeof report;
    });
    assert.equal(exit.code, 3, exit.stderr);
    assert.ok(report, 'child reported the error');
    assert.equal(report.code, 'WAV_WRITE_FAILED');
    assert.equal(report.errno, 'EFBIG');
    assert.ok(report.message.includes(path), report.message);
    assert.equal(report.synced, lastSynced);
    assert.ok(lastSynced > 0);

    const bytes = await readFile(path);
    const parsed = parseWav(bytes);
    assert.equal(parsed.dataBytes / 4, lastSynced);
    assert.equal((await soxInfo(path)).frames, lastSynced);
    assertSamples(readWithWavefile(bytes).samples, makeSignal(lastSynced, 2), 'int16', 'file after EFBIG');
  });
});

/**
 * Which file plays which drum, and reading one (control half). Pure apart from the folder handed in.
 *
 * A drum's sample is `samples/drum<N>.wav` or `samples/drum<N>-<anything>.wav` (`drum1-kick.wav`),
 * case aside. Two files for one drum: the first by name plays, the other is reported as ignored.
 */
import { CodedError, readDerived, readWav, resample, writeDerived, type PluginFolder } from 'plugin-sdk';
import { OCTAVES_RECIPE, octavesOf } from './octaves.ts';
import type { DecodedSample, SharedSample } from './sample.ts';
import { fromCache, sampleKey, toCache } from './sample-cache.ts';

/** The samples' folder, inside the plugin folder. */
export const SAMPLES_DIR = 'samples';
const SAMPLE_NAME = /^(drum[1-9][0-9]*)(?:-[^/\\]*)?\.wav$/i;

export interface KitFiles {
  /** Drum module id → file name (relative to the plugin folder). */
  readonly byDrum: Map<string, string>;
  /** Files that name a drum that already has one (or a drum the plugin does not have). */
  readonly ignored: { file: string; reason: string }[];
}

/** Maps the names in samples/ to drums (`modules`), first by name winning. */
export function kitFiles(names: readonly string[], modules: readonly string[]): KitFiles {
  const byDrum = new Map<string, string>();
  const ignored: KitFiles['ignored'] = [];
  for (const name of [...names].sort()) {
    const match = SAMPLE_NAME.exec(name);
    if (!match) continue;
    const drum = match[1].toLowerCase();
    const file = `${SAMPLES_DIR}/${name}`;
    if (!modules.includes(drum)) ignored.push({ file, reason: `there is no module ${drum} (${modules[0]}…${modules[modules.length - 1]})` });
    else if (byDrum.has(drum)) ignored.push({ file, reason: `${drum} plays ${byDrum.get(drum)}` });
    else byDrum.set(drum, file);
  }
  return { byDrum, ignored };
}

export interface SampleLimits {
  /** The longest sample taken, in seconds (at the file's rate). */
  readonly maxSeconds: number;
}

/** A sample read from a file, and what the file was when it was read. */
export interface LoadedSample {
  /** Relative to the plugin folder, e.g. `samples/drum1-kick.wav`. */
  readonly file: string;
  readonly sample: SharedSample;
  readonly frames: number;
  readonly channels: number;
  /** The file's format and rate, e.g. `16-bit int, 44100 Hz`. */
  readonly source: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Set when the file peaked above full scale and was scaled down to peak at 1. */
  readonly scaledBy?: number;
}

function checkSeconds(seconds: number, limits: SampleLimits): void {
  if (seconds > limits.maxSeconds) {
    throw new CodedError('WAV_TOO_LARGE', `${seconds.toFixed(2)} s long, more than the ${limits.maxSeconds} s a sample may last (plugins.sampler.maxSeconds)`);
  }
}

/**
 * Decodes a WAV file's bytes into a sample at `sampleRate`: mono or stereo, finite, within ±1 (a
 * louder float file is scaled down, never clipped), with its octaves, every array over one
 * SharedArrayBuffer. What it computes is part of the sample cache's key (sample-cache.ts).
 */
export function decodeSample(bytes: Uint8Array, sampleRate: number, limits: SampleLimits, maxBytes: number): DecodedSample {
  const wav = readWav(bytes, { maxBytes, maxChannels: 2 });
  const seconds = wav.frames / wav.sampleRate;
  checkSeconds(seconds, limits);
  const converted = wav.channels.map((c) => (wav.sampleRate === sampleRate ? c : resample(c, wav.sampleRate, sampleRate)));
  const frames = converted[0].length;
  let peak = 0;
  for (const c of converted) for (let i = 0; i < frames; i++) peak = Math.max(peak, Math.abs(c[i]));
  const scale = peak > 1 ? 1 / peak : 1;
  const sides = converted.map((c) => {
    const out = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      const x = c[i] * scale;
      // Denormals become 0 here, so the audio thread never meets one.
      out[i] = x > 1e-30 || x < -1e-30 ? x : 0;
    }
    return [out, ...octavesOf(out)];
  });
  // Every array of every side in one SharedArrayBuffer: the audio thread reads them, nothing copies them.
  const shared = new SharedArrayBuffer(4 * sides.flat().reduce((n, a) => n + a.length, 0));
  let at = 0;
  const place = (arrays: Float32Array[]) =>
    arrays.map((a) => {
      const view = new Float32Array(shared, at, a.length);
      view.set(a);
      at += 4 * a.length;
      return view;
    });
  return { sides: sides.map(place), seconds, source: `${wav.format}, ${wav.sampleRate} Hz`, scale };
}

/** What a cached sample was made by (its key): decodeSample's text and the octaves'; the SDK's readWav and resample are the engine build's. */
const SAMPLE_RECIPE = `${String(decodeSample)}\n${OCTAVES_RECIPE}`;

/**
 * Reads `file` from the plugin folder and makes it a sample at `sampleRate` (decodeSample), or takes
 * what an earlier start made of the same bytes from the sample cache (sample-cache.ts). Throws a
 * CodedError (WAV_INVALID, WAV_UNSUPPORTED, WAV_TOO_LARGE, SAMPLE_GONE).
 */
export async function loadSample(folder: PluginFolder, file: string, sampleRate: number, limits: SampleLimits): Promise<LoadedSample> {
  const stat = await folder.stat(file);
  if (!stat?.isFile) throw new CodedError('SAMPLE_GONE', 'the file is gone');
  // A file larger than the longest sample can be (stereo, 64-bit float at 192 kHz, 1 MiB of other chunks) is not read at all.
  const maxBytes = Math.ceil(limits.maxSeconds * 192000 * 2 * 8) + 1024 * 1024;
  if (stat.size > maxBytes) throw new CodedError('WAV_TOO_LARGE', `${stat.size} bytes, more than a ${limits.maxSeconds} s sample can take`);
  const bytes = await folder.readFile(file);
  const key = await sampleKey(bytes, sampleRate, SAMPLE_RECIPE);
  let decoded = fromCache(await readDerived(key));
  if (decoded) checkSeconds(decoded.seconds, limits);
  else {
    decoded = decodeSample(bytes, sampleRate, limits, maxBytes);
    await writeDerived(key, toCache(decoded));
  }
  const [[left, ...octavesLeft], [right, ...octavesRight] = [left, ...octavesLeft]] = decoded.sides;
  return {
    file,
    sample: { file, left, right, octavesLeft, octavesRight },
    frames: left.length,
    channels: decoded.sides.length,
    source: decoded.source,
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    ...(decoded.scale < 1 ? { scaledBy: decoded.scale } : {}),
  };
}

/**
 * Reading WAV files, for control halves (plugin-sdk): `readWav(bytes)` decodes a whole file into one
 * Float32Array per channel at full scale ±1. wavefile parses the container (RIFF, RIFX, RF64; the
 * `fmt ` chunk, WAVE_FORMAT_EXTENSIBLE); the samples of the common formats are decoded here, because
 * wavefile's own decoder is slow (a second of 32-bit float stereo: about 90 ms, here about 2 ms):
 *
 * | format                      | scale                         |
 * | --------------------------- | ----------------------------- |
 * | 8-bit PCM (unsigned)        | (x − 128) / 128               |
 * | 16, 24, 32-bit PCM (signed) | x / 2^(bits − 1)              |
 * | 32, 64-bit IEEE float       | as it is; NaN and ±∞ become 0 |
 * | A-law, µ-law                | via 16-bit (wavefile)         |
 * | PCM not in whole bytes      | wavefile's decoder, x / 2^(bits − 1) (e.g. 20 bits in 3 bytes) |
 *
 * Integer samples are read at the width of their container (`bitsPerSample`), left-justified as the
 * format defines it, so a 20-bit recording in 24-bit words reads right without `validBitsPerSample`.
 * Runs on the control thread: it allocates and takes time in proportion to the file. Never call it
 * on the audio thread; hand the result over with `ctx.audio.share` (plugin-sdk/control.ts). A file
 * that is not a WAV, is cut short, or is over a limit is refused with a `CodedError`
 * (`WAV_INVALID`, `WAV_UNSUPPORTED`, `WAV_TOO_LARGE`) whose message says what was found.
 */
import * as wavefile from 'wavefile';
import { CodedError } from './control.ts';

// wavefile 11 is a UMD bundle without an `exports` map that says it is an ES module: Node's ESM loader
// sees only its default export, a CommonJS require of the SDK (tsx on a .cts test, a bundle) only
// its properties. Either way, its WaveFile.
const { WaveFile } = (wavefile.WaveFile ? wavefile : (wavefile as unknown as { default: typeof wavefile }).default) as typeof wavefile;

export interface WavData {
  readonly sampleRate: number;
  /** Frames per channel. */
  readonly frames: number;
  /** One array per channel, full scale ±1 (a float file may go beyond). */
  readonly channels: Float32Array[];
  /** The file's sample format, e.g. `16-bit int`, `32-bit float`, `µ-law`. */
  readonly format: string;
}

export interface WavReadLimits {
  /** Refuse files larger than this many bytes before parsing them (default 64 MiB). */
  readonly maxBytes?: number;
  /** Refuse more frames than this (default 2^27: 46 minutes at 48 kHz). */
  readonly maxFrames?: number;
  /** Refuse more channels than this (default 8). */
  readonly maxChannels?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_FRAMES = 2 ** 27;
const DEFAULT_MAX_CHANNELS = 8;

/** The fields of wavefile's `fmt` object that are read here. */
interface Fmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
  subformat: number[];
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Decodes a WAV file. Throws a CodedError naming what is wrong with it. */
export function readWav(bytes: Uint8Array, limits: WavReadLimits = {}): WavData {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) throw new CodedError('WAV_TOO_LARGE', `${bytes.length} bytes, more than the ${maxBytes} allowed`);
  if (bytes.length < 12) throw new CodedError('WAV_INVALID', `${bytes.length} bytes: too short for a WAV file`);
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes, true);
  } catch (error) {
    throw new CodedError('WAV_INVALID', `not a WAV file wavefile can read (${String((error as Error)?.message ?? error)})`);
  }
  const fmt = wav.fmt as Fmt;
  const samples = (wav.data as { samples?: Uint8Array }).samples ?? new Uint8Array(0);
  const numChannels = fmt.numChannels;
  const maxChannels = limits.maxChannels ?? DEFAULT_MAX_CHANNELS;
  if (!Number.isInteger(numChannels) || numChannels < 1) throw new CodedError('WAV_INVALID', `the header says ${String(numChannels)} channels`);
  if (numChannels > maxChannels) throw new CodedError('WAV_TOO_LARGE', `${numChannels} channels, more than the ${maxChannels} allowed`);
  if (!(fmt.sampleRate >= 1000 && fmt.sampleRate <= 768000)) throw new CodedError('WAV_INVALID', `the header says a sample rate of ${String(fmt.sampleRate)} Hz`);

  let format = fmt.audioFormat;
  if (format === WAVE_FORMAT_EXTENSIBLE) format = fmt.subformat?.[0] ?? 0;
  if (format === WAVE_FORMAT_ALAW || format === WAVE_FORMAT_MULAW) return decodeCompanded(wav, format, limits);
  const bits = fmt.bitsPerSample;
  const bytesPer = Math.ceil(bits / 8);
  if (!(format === WAVE_FORMAT_PCM && bits >= 8 && bits <= 32) && !(format === WAVE_FORMAT_FLOAT && (bits === 32 || bits === 64))) {
    throw new CodedError('WAV_UNSUPPORTED', `sample format ${format} at ${String(bits)} bits; expected PCM (8–32 bit), float (32, 64 bit), A-law or µ-law`);
  }
  const frameBytes = bytesPer * numChannels;
  const frames = Math.floor(samples.length / frameBytes);
  checkFrames(frames, limits);
  const channels = Array.from({ length: numChannels }, () => new Float32Array(frames));
  const littleEndian = wav.container !== 'RIFX';
  const view = new DataView(samples.buffer, samples.byteOffset, frames * frameBytes);
  const name = format === WAVE_FORMAT_FLOAT ? `${bits}-bit float` : `${bits}-bit int`;
  const standard = format === WAVE_FORMAT_FLOAT || bits === 8 || bits === 16 || bits === 24 || bits === 32;
  if (!standard) return fromWavefile(wav, frames, channels, bits, fmt.sampleRate, name);
  for (let c = 0; c < numChannels; c++) {
    const out = channels[c];
    let at = c * bytesPer;
    for (let i = 0; i < frames; i++, at += frameBytes) out[i] = decodeOne(view, at, format, bits, littleEndian);
  }
  return { sampleRate: fmt.sampleRate, frames, channels, format: name };
}

function decodeOne(view: DataView, at: number, format: number, bits: number, le: boolean): number {
  if (format === WAVE_FORMAT_FLOAT) {
    const x = bits === 32 ? view.getFloat32(at, le) : view.getFloat64(at, le);
    return Number.isFinite(x) ? x : 0;
  }
  switch (bits) {
    case 8:
      return (view.getUint8(at) - 128) / 128;
    case 16:
      return view.getInt16(at, le) / 32768;
    case 24: {
      const b0 = view.getUint8(at);
      const b1 = view.getUint8(at + 1);
      const b2 = view.getUint8(at + 2);
      const u = le ? b0 | (b1 << 8) | (b2 << 16) : b2 | (b1 << 8) | (b0 << 16);
      return ((u << 8) >> 8) / 8388608;
    }
    default:
      return view.getInt32(at, le) / 2147483648;
  }
}

function checkFrames(frames: number, limits: WavReadLimits): void {
  const maxFrames = limits.maxFrames ?? DEFAULT_MAX_FRAMES;
  if (frames < 1) throw new CodedError('WAV_INVALID', 'no audio in the data chunk');
  if (frames > maxFrames) throw new CodedError('WAV_TOO_LARGE', `${frames} frames, more than the ${maxFrames} allowed`);
}

/** Odd PCM bit depths (12, 20 bits…): wavefile's decoder, scaled to ±1. */
function fromWavefile(wav: InstanceType<typeof WaveFile>, frames: number, channels: Float32Array[], bits: number, sampleRate: number, name: string): WavData {
  const decoded = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const perChannel = channels.length === 1 ? [decoded as Float64Array] : (decoded as Float64Array[]);
  const scale = 1 / 2 ** (bits - 1);
  channels.forEach((out, c) => {
    const src = perChannel[c];
    for (let i = 0; i < frames; i++) out[i] = src[i] * scale;
  });
  return { sampleRate, frames, channels, format: name };
}

/** A-law and µ-law: wavefile expands them to 16-bit first. */
function decodeCompanded(wav: InstanceType<typeof WaveFile>, format: number, limits: WavReadLimits): WavData {
  const name = format === WAVE_FORMAT_ALAW ? 'A-law' : 'µ-law';
  const fmt = wav.fmt as Fmt;
  // One byte a sample: check the size before expanding.
  checkFrames(Math.floor(((wav.data as { samples?: Uint8Array }).samples?.length ?? 0) / fmt.numChannels), limits);
  try {
    if (format === WAVE_FORMAT_ALAW) wav.fromALaw();
    else wav.fromMuLaw();
  } catch (error) {
    throw new CodedError('WAV_INVALID', `${name} data wavefile cannot decode (${String((error as Error)?.message ?? error)})`);
  }
  const decoded = readWav(wav.toBuffer(), { ...limits, maxBytes: Infinity });
  return { ...decoded, format: name };
}

/**
 * WAV header layout for the streaming writer (`writer.ts`): RIFF/WAVE that can turn into RF64 in place.
 *
 * Thread: control thread only. Pure functions, no I/O.
 *
 * Layout (offsets in bytes, little endian):
 *
 * | offset | bytes | RIFF                         | RF64 (EBU Tech 3306)              |
 * | ------ | ----- | ---------------------------- | --------------------------------- |
 * | 0      | 4     | `RIFF`                       | `RF64`                            |
 * | 4      | 4     | file length − 8              | 0xFFFFFFFF                        |
 * | 8      | 4     | `WAVE`                       | `WAVE`                            |
 * | 12     | 8     | `JUNK` 28                    | `ds64` 28                         |
 * | 20     | 28    | zeros (reserved for ds64)    | riff size u64, data size u64, sample count u64, table length 0 |
 * | 48     | 24/26 | `fmt ` 16 (PCM) or 18 (float, cbSize 0)                          |
 * | 74     | 12    | `fact` 4 frames (float only; 0xFFFFFFFF in RF64)                 |
 * | …      | 8     | `data` size                  | `data` 0xFFFFFFFF                 |
 *
 * int16/int24 use WAVE_FORMAT_PCM (1); float32 uses WAVE_FORMAT_IEEE_FLOAT (3), which the spec wants
 * with an 18-byte `fmt ` and a `fact` chunk. WAVE_FORMAT_EXTENSIBLE is not used: sox, libsndfile,
 * ffmpeg and wavefile all read these plain tags for any channel count and 24-bit.
 */

export type WavSampleFormat = 'int16' | 'int24' | 'float32';

export const WAVE_FORMAT_PCM = 1;
export const WAVE_FORMAT_IEEE_FLOAT = 3;
export const U32_MAX = 0xffff_ffff;
/** Size of the JUNK chunk payload reserved for `ds64` (riff, data and sample count as u64 + table length). */
export const DS64_PAYLOAD_BYTES = 28;

export interface WavLayout {
  readonly format: WavSampleFormat;
  readonly channels: number;
  readonly sampleRate: number;
  readonly formatTag: number;
  readonly bytesPerSample: number;
  readonly bitsPerSample: number;
  /** Bytes per frame (all channels). */
  readonly blockAlign: number;
  /** Header length; the first audio byte is at this offset. */
  readonly headerBytes: number;
  /** Offset of the `fact` sample length field, or -1 when there is no `fact` chunk. */
  readonly factValueOffset: number;
  /** Offset of the `data` chunk size field. */
  readonly dataSizeOffset: number;
}

const BYTES_PER_SAMPLE: Readonly<Record<WavSampleFormat, number>> = { int16: 2, int24: 3, float32: 4 };

export function isWavSampleFormat(value: unknown): value is WavSampleFormat {
  return value === 'int16' || value === 'int24' || value === 'float32';
}

/** Compute the header layout. Arguments must already be validated (see `writer.ts`). */
export function wavLayout(format: WavSampleFormat, channels: number, sampleRate: number): WavLayout {
  const bytesPerSample = BYTES_PER_SAMPLE[format];
  const isFloat = format === 'float32';
  const fmtPayload = isFloat ? 18 : 16;
  const fmtEnd = 48 + 8 + fmtPayload;
  const factEnd = isFloat ? fmtEnd + 12 : fmtEnd;
  return {
    format,
    channels,
    sampleRate,
    formatTag: isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM,
    bytesPerSample,
    bitsPerSample: bytesPerSample * 8,
    blockAlign: bytesPerSample * channels,
    headerBytes: factEnd + 8,
    factValueOffset: isFloat ? fmtEnd + 8 : -1,
    dataSizeOffset: factEnd + 4,
  };
}

/** RIFF size (file length − 8) for `dataBytes` of audio, counting the pad byte an odd data chunk needs. */
export function riffSizeFor(layout: WavLayout, dataBytes: number): number {
  return layout.headerBytes - 8 + dataBytes + (dataBytes & 1);
}

function writeU64(out: Buffer, value: number, offset: number): void {
  out.writeUInt32LE(value % 0x1_0000_0000, offset);
  out.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

/**
 * Write the whole header (`layout.headerBytes` bytes) into `out` for `dataBytes` of audio.
 * `rf64` selects the RF64 form; otherwise the sizes must fit in 32 bits (the writer guarantees it).
 */
export function writeWavHeader(layout: WavLayout, out: Buffer, dataBytes: number, rf64: boolean): void {
  const riffSize = riffSizeFor(layout, dataBytes);
  const frames = Math.floor(dataBytes / layout.blockAlign);
  if (!rf64 && riffSize > U32_MAX) {
    throw new RangeError(`WAV header: RIFF size ${riffSize} does not fit in 32 bits; the file must be RF64`);
  }
  out.fill(0, 0, layout.headerBytes);
  out.write(rf64 ? 'RF64' : 'RIFF', 0, 'latin1');
  out.writeUInt32LE(rf64 ? U32_MAX : riffSize, 4);
  out.write('WAVE', 8, 'latin1');
  out.write(rf64 ? 'ds64' : 'JUNK', 12, 'latin1');
  out.writeUInt32LE(DS64_PAYLOAD_BYTES, 16);
  if (rf64) {
    writeU64(out, riffSize, 20);
    writeU64(out, dataBytes, 28);
    writeU64(out, frames, 36);
    out.writeUInt32LE(0, 44); // table length: no other oversized chunks
  }
  const isFloat = layout.formatTag === WAVE_FORMAT_IEEE_FLOAT;
  out.write('fmt ', 48, 'latin1');
  out.writeUInt32LE(isFloat ? 18 : 16, 52);
  out.writeUInt16LE(layout.formatTag, 56);
  out.writeUInt16LE(layout.channels, 58);
  out.writeUInt32LE(layout.sampleRate, 60);
  out.writeUInt32LE(layout.sampleRate * layout.blockAlign, 64);
  out.writeUInt16LE(layout.blockAlign, 68);
  out.writeUInt16LE(layout.bitsPerSample, 70);
  if (isFloat) {
    out.writeUInt16LE(0, 72); // cbSize
    out.write('fact', 74, 'latin1');
    out.writeUInt32LE(4, 78);
    out.writeUInt32LE(rf64 || frames > U32_MAX ? U32_MAX : frames, layout.factValueOffset);
  }
  out.write('data', layout.dataSizeOffset - 4, 'latin1');
  out.writeUInt32LE(rf64 ? U32_MAX : dataBytes, layout.dataSizeOffset);
}

/**
 * The sample cache (control half): what `decodeSample` made of a file — the sample and its octaves,
 * already at the engine's rate — kept by the SDK's derived-data cache under a key of the file's
 * bytes, the sample rate and the code that made it, so an unchanged kit is not decoded and filtered
 * again at every start. An entry is read back into one SharedArrayBuffer, bit for bit what
 * `decodeSample` gives; one that does not have the shape of a sample reads as none.
 *
 * Layout: a little-endian u32 with the length of a JSON header (each side's array lengths, seconds,
 * source, scale), the header, zeros to a multiple of 4, then every array's floats in the header's order.
 */
import { derivedKey } from 'plugin-sdk';
import { OCTAVE_LEVELS } from './octaves.ts';
import type { DecodedSample } from './sample.ts';

interface Header {
  lengths: number[][];
  seconds: number;
  source: string;
  scale: number;
}

/** The cache key of `bytes` decoded at `sampleRate` by the code `recipe` describes (null: no caching). */
export function sampleKey(bytes: Uint8Array, sampleRate: number, recipe: string): Promise<string | null> {
  return derivedKey(['sampler sample', recipe, String(sampleRate), bytes]);
}

const dataStart = (headerBytes: number): number => Math.ceil((4 + headerBytes) / 4) * 4;

export function toCache(sample: DecodedSample): Uint8Array {
  const header: Header = { lengths: sample.sides.map((side) => side.map((a) => a.length)), seconds: sample.seconds, source: sample.source, scale: sample.scale };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const arrays = sample.sides.flat();
  const start = dataStart(json.length);
  const out = new Uint8Array(start + 4 * arrays.reduce((n, a) => n + a.length, 0));
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

/** Whether `lengths` are a sample's sides (one or two, alike), each a length with its octaves (each half the last, rounded up). */
function sampleShape(lengths: unknown): lengths is number[][] {
  if (!Array.isArray(lengths) || lengths.length < 1 || lengths.length > 2) return false;
  const first: unknown = lengths[0];
  if (!Array.isArray(first) || first.length !== OCTAVE_LEVELS + 1 || !Number.isInteger(first[0]) || (first[0] as number) < 1) return false;
  for (let l = 1; l < first.length; l++) if (first[l] !== Math.ceil((first[l - 1] as number) / 2)) return false;
  return lengths.every((side: unknown) => Array.isArray(side) && side.length === first.length && side.every((n, i) => n === first[i]));
}

/** The sample an entry holds, in a SharedArrayBuffer of its own, or null when `data` is none or not one. */
export function fromCache(data: Uint8Array | null): DecodedSample | null {
  if (data === null || data.length < 4) return null;
  const jsonBytes = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
  if (4 + jsonBytes > data.length) return null;
  let header: Partial<Header>;
  try {
    header = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + jsonBytes))) as Partial<Header>;
  } catch {
    return null;
  }
  const { lengths, seconds, source, scale } = header;
  if (!sampleShape(lengths) || typeof seconds !== 'number' || !(seconds > 0) || typeof source !== 'string' || typeof scale !== 'number' || !(scale > 0 && scale <= 1)) return null;
  const start = dataStart(jsonBytes);
  const floats = lengths.flat().reduce((n, l) => n + l, 0);
  if (data.length !== start + 4 * floats) return null;
  const shared = new SharedArrayBuffer(4 * floats);
  new Uint8Array(shared).set(data.subarray(start));
  let at = 0;
  const sides = lengths.map((side) =>
    side.map((n) => {
      const view = new Float32Array(shared, at, n);
      at += 4 * n;
      return view;
    }),
  );
  return { sides, seconds, source, scale };
}

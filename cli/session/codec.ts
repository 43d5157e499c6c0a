/**
 * Journal values as JSON (control thread). Call arguments are mostly plain JSON; what is not — plugin
 * code and binary data (a sampler's samples: typed arrays over shared memory) — is kept by content
 * hash in the session's blob folder and journaled as a reference, so a replay gets the exact bytes
 * that played however often the file changed afterwards. Each distinct blob is stored once.
 */
import { createHash } from 'node:crypto';

/** Strings at least this long (plugin bundles) go to the blob store. */
const LONG_TEXT = 1024;

const TYPED = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
} as const;
type TypedName = keyof typeof TYPED;

/** A reference to a blob: text (`$text`) or the bytes of a typed array (`$bin`, its type, whether it sat on shared memory). */
type BlobRef = { $text: string } | { $bin: string; type: TypedName | 'ArrayBuffer'; shared: boolean };

export function contentHash(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface BlobSink {
  /** Store `data` under `hash` unless it is there already (synchronously queued; written before the line that names it is). */
  put(hash: string, data: string | Uint8Array): void;
}

export interface BlobSource {
  get(hash: string): Buffer;
}

/** `value` with long strings and binary data replaced by blob references (put into `sink`). */
export function encodeValue(value: unknown, sink: BlobSink): unknown {
  if (typeof value === 'string') {
    if (value.length < LONG_TEXT) return value;
    const hash = contentHash(value);
    sink.put(hash, value);
    return { $text: hash } satisfies BlobRef;
  }
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return encodeBinary(value, sink);
  if (Array.isArray(value)) return value.map((v) => encodeValue(v, sink));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = encodeValue(v, sink);
  return out;
}

function encodeBinary(value: ArrayBufferView | ArrayBuffer | SharedArrayBuffer, sink: BlobSink): BlobRef {
  const isView = ArrayBuffer.isView(value);
  const buffer = isView ? value.buffer : value;
  const bytes = isView ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
  const copy = Uint8Array.from(bytes);
  const hash = contentHash(copy);
  sink.put(hash, copy);
  const name = isView ? (value.constructor.name as TypedName) : 'ArrayBuffer';
  return { $bin: hash, type: name in TYPED || name === 'ArrayBuffer' ? name : 'Uint8Array', shared: buffer instanceof SharedArrayBuffer };
}

/** The value `encodeValue` made, with every blob reference read back from `source`. */
export function decodeValue(value: unknown, source: BlobSource): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => decodeValue(v, source));
  const ref = value as Partial<{ $text: string; $bin: string; type: string; shared: boolean }>;
  if (typeof ref.$text === 'string') return source.get(ref.$text).toString('utf8');
  if (typeof ref.$bin === 'string') return decodeBinary(source.get(ref.$bin), ref.type ?? 'Uint8Array', ref.shared === true);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeValue(v, source);
  return out;
}

function decodeBinary(bytes: Buffer, type: string, shared: boolean): unknown {
  const buffer = shared ? new SharedArrayBuffer(bytes.length) : new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  if (type === 'ArrayBuffer') return buffer;
  const View = TYPED[type as TypedName] ?? Uint8Array;
  // A typed array over shared memory is what the live value was (the typings only take ArrayBuffer).
  return new View(buffer as ArrayBuffer);
}

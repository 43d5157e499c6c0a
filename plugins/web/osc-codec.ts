/**
 * The little OSC 1.0 a WebSocket needs (OSCQuery streams values as binary OSC frames, and clients may
 * send OSC the same way): messages with int32, float32, string, double, int64, true/false/nil
 * arguments, and bundles (their timetags ignored: a WebSocket message applies now).
 */

export type OscArg = number | string | boolean | null;
export interface OscMessage {
  address: string;
  args: OscArg[];
}

const pad4 = (n: number) => (n + 3) & ~3;

/** UTF-8 without TextEncoder (a plugin's realm has the language's built-ins only). */
export function utf8Encode(s: string): Uint8Array {
  const bin = unescape(encodeURIComponent(s));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function utf8Decode(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  try {
    return decodeURIComponent(escape(bin));
  } catch {
    throw new Error('OSC string is not valid UTF-8');
  }
}

function encodeString(s: string): Uint8Array {
  const bytes = utf8Encode(s);
  const out = new Uint8Array(pad4(bytes.length + 1));
  out.set(bytes);
  return out;
}

/** One message; each number is sent as `types[i]` ('i' or 'f'; default 'f'). */
export function encodeMessage(address: string, args: readonly OscArg[], types = ''): Uint8Array {
  let tags = ',';
  const parts: Uint8Array[] = [];
  args.forEach((a, i) => {
    if (typeof a === 'string') {
      tags += 's';
      parts.push(encodeString(a));
    } else if (typeof a === 'boolean') tags += a ? 'T' : 'F';
    else if (a === null) tags += 'N';
    else {
      const b = new Uint8Array(4);
      const view = new DataView(b.buffer);
      if (types[i] === 'i') {
        tags += 'i';
        view.setInt32(0, Math.round(a));
      } else {
        tags += 'f';
        view.setFloat32(0, a);
      }
      parts.push(b);
    }
  });
  const head = [encodeString(address), encodeString(tags)];
  const all = [...head, ...parts];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class Reader {
  at = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  string(): string {
    const end = this.bytes.indexOf(0, this.at);
    if (end < 0) throw new Error('OSC string without its terminating NUL');
    const s = utf8Decode(this.bytes.subarray(this.at, end));
    this.at = pad4(end + 1);
    return s;
  }
  take(n: number): number {
    if (this.at + n > this.bytes.length) throw new Error('OSC packet cut short');
    const at = this.at;
    this.at += n;
    return at;
  }
}

/** The messages of a packet (a bundle's, in order). Throws on a malformed packet or an unsupported type. */
export function decodePacket(bytes: Uint8Array, depth = 0): OscMessage[] {
  const r = new Reader(bytes);
  if (bytes[0] === 0x23 /* # */) {
    if (r.string() !== '#bundle' || depth > 4) throw new Error('not an OSC bundle');
    r.take(8); // timetag
    const out: OscMessage[] = [];
    while (r.at < bytes.length) {
      const size = r.view.getInt32(r.take(4));
      if (size < 0) throw new Error('bad bundle element size');
      const at = r.take(size);
      out.push(...decodePacket(bytes.subarray(at, at + size), depth + 1));
    }
    return out;
  }
  const address = r.string();
  if (!address.startsWith('/')) throw new Error('an OSC address starts with "/"');
  const tags = r.at < bytes.length ? r.string() : ',';
  const args: OscArg[] = [];
  for (const t of tags.slice(1)) {
    if (t === 'i') args.push(r.view.getInt32(r.take(4)));
    else if (t === 'f') args.push(r.view.getFloat32(r.take(4)));
    else if (t === 'd') args.push(r.view.getFloat64(r.take(8)));
    else if (t === 'h') args.push(Number(r.view.getBigInt64(r.take(8))));
    else if (t === 's' || t === 'S') args.push(r.string());
    else if (t === 'T') args.push(true);
    else if (t === 'F') args.push(false);
    else if (t === 'N') args.push(null);
    else throw new Error(`OSC type '${t}' is not supported here`);
  }
  return [{ address, args }];
}

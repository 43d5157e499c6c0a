/**
 * OSC over UDP: the transport under the router (control thread only).
 *
 * Receives datagrams, decodes them into flat `IncomingMessage`s (bundles flattened, each message
 * carrying its effective time tag) and hands them to one `onMessage` handler. Anything that does
 * not decode goes to `onBadPacket` with a reason. No input, however malformed, throws or crashes.
 * No routing happens here.
 *
 * Why a plain `node:dgram` socket and our own bundle framing rather than `osc.UDPPort`:
 * - UDPPort reports decode failures as a generic "error" event without the sender, and a throwing
 *   listener inside its "message" callback would escape as an uncaught exception. Here every
 *   datagram is decoded inside one try/catch with its `rinfo`, so a bad packet is always answered
 *   with who sent it, how big it was and why it was refused.
 * - osc.js 2.4.5 does not check bundle element sizes (a message may run past its element into the
 *   next), turns the "immediately" time tag into `Date.now()` (indistinguishable from a real time),
 *   reads blobs at the wrong place when the bytes do not start at offset 0 of their ArrayBuffer, and
 *   mis-parses nested lists. So we walk bundle framing ourselves (sizes checked, depth bounded,
 *   time tags converted with "immediately" → null) and give osc.js exactly one message at a time,
 *   copied into its own buffer, to decode the address and arguments; we then check that it
 *   consumed exactly the message's bytes.
 * - Encoding uses `osc.writeMessage` with `metadata: true` (without it every number goes out as 'f').
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { createRequire } from 'node:module';
import { debuglog } from 'node:util';
import type Osc from 'osc';
import type { OscReadArg, OscWriteArg } from 'osc';
import type { SenderAllowList } from './osc-allow-list.ts';
import { ErrorCode } from '../base/errors.ts';

// Only osc.js's codec (src/osc.js): the package's main module also loads its serial-port and
// WebSocket transports (0.2–0.4 s on a loaded machine against 0.03–0.08 s for the codec alone),
// none of which the engine uses. Loaded on first use, so an offline render, which never encodes
// or decodes a packet, does not pay for it.
let oscLib: typeof Osc | null = null;
const osc = (): typeof Osc => (oscLib ??= createRequire(import.meta.url)('osc/src/osc.js') as typeof Osc);

const trace = debuglog('chronus:osc');

/** Where a packet came from / where to send one. */
export interface Remote {
  address: string;
  port: number;
}

/**
 * A decoded argument. Numbers are numbers (int 'i', 'h' and float 'f', 'd' alike; see `typeTags`
 * when the difference matters). Arrays appear only for an OSC list ('[' … ']'), so `[440]` means
 * the sender wrapped the value in a list and `440` means it did not.
 */
export type OscValue = number | string | boolean | null | Uint8Array | OscValue[];

export interface IncomingMessage {
  address: string;
  args: OscValue[];
  /**
   * When the message should take effect: wall-clock ms since the Unix epoch (converted from NTP),
   * or null for "immediately" (a bare message, or the 0x00000000_00000001 time tag). Nested
   * bundles (OSC 1.0): an inner "immediately" inherits the enclosing bundle's time; an inner time
   * earlier than the enclosing one (which OSC 1.0 forbids) is raised to the enclosing time.
   */
  timetag: number | null;
  remote: Remote;
  /** The OSC type tags without the leading comma, e.g. "if", "[ff]s", "" (no arguments). */
  typeTags: string;
}

/** An argument with an explicit OSC type. 'T', 'F', 'N' ignore `value`; 'h' is a 64-bit integer (a safe integer). */
export type OscArg =
  | { type: 'i'; value: number }
  | { type: 'h'; value: number }
  | { type: 'f'; value: number }
  | { type: 's'; value: string }
  | { type: 'b'; value: Uint8Array }
  | { type: 'T' | 'F' | 'N'; value?: unknown };

/**
 * What `send` accepts: explicit `OscArg`s, or plain values typed by inference —
 * number → 'f' (float32; pass `{ type: 'i', value }` for an int), string → 's', true → 'T',
 * false → 'F', null → 'N', Uint8Array → 'b', array → OSC list of its (inferred) elements.
 */
export type OscSendArg = OscArg | OscValue | OscSendArg[];

export type DecodeResult =
  | { ok: true; messages: IncomingMessage[] }
  | { ok: false; reason: string };

export interface OscTransportStats {
  /** Datagrams from senders the allow-list refuses: dropped before decoding, not in `packets`. */
  denied: number;
  /** Datagrams received (and decoded). Always `okPackets + badPackets`. */
  packets: number;
  okPackets: number;
  badPackets: number;
  /** Messages delivered to `onMessage` (a bundle can deliver several, an empty bundle none). */
  messages: number;
  /** Exceptions thrown by `onMessage` / `onBadPacket` (caught and passed to `onError`). */
  handlerErrors: number;
  /** Datagrams handed to the socket, and those the socket failed to send. */
  sent: number;
  sendErrors: number;
}

export interface OscTransportOptions {
  /** Address to bind; default 127.0.0.1. An IPv6 literal binds a udp6 socket. */
  host?: string;
  /** UDP port to bind; 0 picks any free port (read it back from `.port`). */
  port: number;
  /** Largest datagram this transport sends (replies are split to fit); default 65507, min 64. */
  maxPacketBytes?: number;
  /**
   * SO_RCVBUF to ask for, in bytes, for bursts of incoming packets (the OS caps it: on Linux at
   * net.core.rmem_max, and reports twice the size it grants). Read back what was granted from
   * `recvBufferBytes`. Default: the OS default.
   */
  recvBufferSize?: number;
  /** Who may send besides loopback; null (default) accepts everyone. See kernel/osc/osc-allow-list.ts. */
  allow?: SenderAllowList | null;
}

/** UDP over IPv4 carries at most 65,507 bytes of payload. */
export const DEFAULT_MAX_PACKET_BYTES = 65507;
/** Bundles nested deeper than this are refused (bounds recursion on hostile input). */
export const MAX_BUNDLE_DEPTH = 16;
const MIN_PACKET_BYTES = 64;
const REASON_MAX_CHARS = 200;
const READ_OPTIONS = { metadata: true, unpackSingleArgs: false };
const WRITE_OPTIONS = { metadata: true };
const BUNDLE_HEADER = '#bundle\0';
/**
 * osc.js copies the rest of the type tags for every '[' it reads (quadratic): one packet of
 * 32,000 "[]" took 10 s. Real messages carry a handful of lists; more than this is refused.
 */
export const MAX_LISTS_PER_MESSAGE = 32;
/** Every type tag osc.js can read, plus the list brackets. */
const KNOWN_TYPE_TAGS = new Set('ifsSbhdtcrmTFNI[]');

/** Coded error for programmer mistakes (bad arguments to `send`, bind failures). */
export class OscTransportError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'OscTransportError';
    this.code = code;
  }
}

// ───────────────────────────── decoding ─────────────────────────────

/**
 * NTP time tag → ms since the Unix epoch, or null for "immediately" (seconds 0, fraction 1).
 * Era 0 only (until 2036), like osc.js; earlier times simply come out in the past.
 */
export function ntpToMs(seconds: number, fraction: number): number | null {
  if (seconds === 0 && fraction === 1) return null;
  return (seconds - osc().SECS_70YRS) * 1000 + (fraction / osc().TWO_32) * 1000;
}

/**
 * Decodes one datagram. Pure and total: never throws; every input is either `ok` (zero or more
 * messages: an empty bundle is valid) or refused with a reason. A bundle with any bad element is
 * refused whole (bundles are atomic).
 */
export function decodePacket(bytes: Uint8Array, remote: Remote): DecodeResult {
  try {
    if (bytes.length === 0) return { ok: false, reason: 'empty packet' };
    const messages: IncomingMessage[] = [];
    const reason = decodeElement(bytes, null, 0, remote, messages);
    return reason === null ? { ok: true, messages } : { ok: false, reason };
  } catch (err) {
    // decodeElement catches osc.js errors itself; this is a last line of defence.
    return { ok: false, reason: clip(`internal decoder error: ${errorText(err)}`) };
  }
}

/** Decodes a message or bundle into `out`; returns null on success or the reason it is bad. */
function decodeElement(
  bytes: Uint8Array,
  inherited: number | null,
  depth: number,
  remote: Remote,
  out: IncomingMessage[],
): string | null {
  if (bytes.length % 4 !== 0) return `size ${bytes.length} is not a multiple of 4`;
  const first = bytes[0];
  if (first === 0x2f /* '/' */) return decodeMessage(bytes, inherited, remote, out);
  if (first !== 0x23 /* '#' */ || !startsWith(bytes, BUNDLE_HEADER)) {
    return 'not an OSC packet: must start with "/" (message) or "#bundle" (bundle)';
  }
  if (depth >= MAX_BUNDLE_DEPTH) return `bundles nested deeper than ${MAX_BUNDLE_DEPTH}`;
  if (bytes.length < 16) return 'bundle shorter than its 16-byte header';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const own = ntpToMs(view.getUint32(8), view.getUint32(12));
  const timetag = own === null ? inherited : inherited === null ? own : Math.max(own, inherited);
  let offset = 16;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) return `bundle element size field truncated at byte ${offset}`;
    const size = view.getInt32(offset);
    offset += 4;
    if (size <= 0 || size % 4 !== 0 || offset + size > bytes.length) {
      return `bundle element at byte ${offset - 4} has invalid size ${size}`;
    }
    const reason = decodeElement(bytes.subarray(offset, offset + size), timetag, depth + 1, remote, out);
    if (reason !== null) return reason;
    offset += size;
  }
  return null;
}

function decodeMessage(
  bytes: Uint8Array,
  timetag: number | null,
  remote: Remote,
  out: IncomingMessage[],
): string | null {
  const addressEnd = bytes.indexOf(0);
  if (addressEnd < 0) return 'address is not NUL-terminated';
  const tagsStart = pad4(addressEnd + 1);
  let typeTags = '';
  let args: OscValue[] = [];
  // OSC 1.0 lets old senders omit the type tag string: a bare address is a message with no args.
  if (tagsStart < bytes.length) {
    if (bytes[tagsStart] !== 0x2c /* ',' */) return 'type tag string does not start with ","';
    const tagsEnd = bytes.indexOf(0, tagsStart);
    if (tagsEnd < 0) return 'type tag string is not NUL-terminated';
    typeTags = latin1(bytes, tagsStart + 1, tagsEnd);
    const tagError = checkTypeTags(typeTags);
    if (tagError !== null) return tagError;
    // A private copy: osc.js reads blobs relative to the ArrayBuffer start, and the values it
    // returns for 'b'/'m' are views we copy again so they never pin the receive buffer.
    const copy = bytes.slice();
    const state = { idx: 0 };
    let read;
    try {
      read = osc().readMessage(copy, READ_OPTIONS, state);
    } catch (err) {
      return clip(`malformed arguments (type tags ${quoted(typeTags)}): ${errorText(err)}`);
    }
    if (state.idx !== bytes.length) {
      return clip(state.idx < bytes.length
        ? `${bytes.length - state.idx} unread bytes after the arguments ${quoted(typeTags)}`
        : `arguments ${quoted(typeTags)} run past the end of the message`);
    }
    args = read.args.map(unwrap);
  }
  out.push({ address: utf8(bytes, 0, addressEnd), args, timetag, remote, typeTags });
  return null;
}

/** Known tags only; lists balanced, not nested (osc.js 2.4.5 cannot read them) and few. */
function checkTypeTags(tags: string): string | null {
  let depth = 0;
  let lists = 0;
  for (const tag of tags) {
    if (!KNOWN_TYPE_TAGS.has(tag)) return clip(`unknown OSC type tag ${JSON.stringify(tag)} in ${quoted(tags)}`);
    if (tag === '[') {
      depth++;
      lists++;
      if (depth > 1) return clip(`nested OSC lists are not supported (${quoted(tags)})`);
      if (lists > MAX_LISTS_PER_MESSAGE) return `more than ${MAX_LISTS_PER_MESSAGE} OSC lists in one message`;
    } else if (tag === ']') {
      depth--;
      if (depth < 0) return clip(`unbalanced "]" in type tags ${quoted(tags)}`);
    }
  }
  return depth === 0 ? null : clip(`unclosed "[" in type tags ${quoted(tags)}`);
}

/** osc.js metadata `{ type, value }` → plain value (see `OscValue`). */
function unwrap(arg: OscReadArg): OscValue {
  if (Array.isArray(arg)) return arg.map(unwrap);
  const v = arg.value;
  switch (arg.type) {
    case 'h': // a `long` instance; beyond ±2^53 precision is lost
      return typeof v === 'object' && v !== null && 'toNumber' in v ? v.toNumber() : Number.NaN;
    case 't': // a time tag argument → ms since the Unix epoch, null for "immediately"
      return typeof v === 'object' && v !== null && 'raw' in v ? ntpToMs(v.raw[0], v.raw[1]) : null;
    case 'r': // RGBA colour → its 4 bytes
      return typeof v === 'object' && v !== null && 'r' in v
        ? Uint8Array.of(v.r, v.g, v.b, Math.round(v.a * 255))
        : null;
    case 'b':
    case 'm': // blob / 4-byte MIDI message → a copy of the bytes
      return v instanceof Uint8Array ? new Uint8Array(v) : null;
    default: // i f d → number; s S c → string; T F → boolean; N → null; I (impulse) → 1
      return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : null;
  }
}

// ───────────────────────────── encoding ─────────────────────────────

/** Encodes one message. Throws `OscTransportError` (OSC_ARG_INVALID) on an argument it cannot type. */
export function encodeMessage(address: string, args: readonly OscSendArg[]): Uint8Array {
  if (typeof address !== 'string' || !address.startsWith('/') || address.includes('\0')) {
    throw new OscTransportError(ErrorCode.OSC_ADDRESS_INVALID, `address must be a string starting with "/" and without NUL, got ${JSON.stringify(address)}`);
  }
  return osc().writeMessage({ address, args: args.map((a, i) => toWriteArg(a, `args[${i}]`)) }, WRITE_OPTIONS);
}

function toWriteArg(arg: OscSendArg, where: string): OscWriteArg {
  const bad = (expected: string): never => {
    throw new OscTransportError(ErrorCode.OSC_ARG_INVALID, `${where}: expected ${expected}, got ${describe(arg)}`);
  };
  if (arg === null) return { type: 'N' };
  if (Array.isArray(arg)) return arg.map((a, i) => toWriteArg(a, `${where}[${i}]`));
  if (arg instanceof Uint8Array) return { type: 'b', value: arg };
  switch (typeof arg) {
    case 'number':
      return { type: 'f', value: arg };
    case 'string':
      return arg.includes('\0') ? bad('a string without NUL characters') : { type: 's', value: arg };
    case 'boolean':
      return { type: arg ? 'T' : 'F' };
    case 'object':
      break;
    default:
      return bad('a number, string, boolean, null, Uint8Array, array or { type, value }');
  }
  switch (arg.type) {
    case 'i':
      return Number.isInteger(arg.value) && arg.value >= -0x80000000 && arg.value <= 0x7fffffff
        ? { type: 'i', value: arg.value }
        : bad('an int32 for type "i"');
    case 'h':
      return Number.isSafeInteger(arg.value) ? { type: 'h', value: int64Words(arg.value) } : bad('a safe integer for type "h"');
    case 'f':
      return typeof arg.value === 'number' ? { type: 'f', value: arg.value } : bad('a number for type "f"');
    case 's':
      return typeof arg.value === 'string' && !arg.value.includes('\0')
        ? { type: 's', value: arg.value }
        : bad('a string without NUL for type "s"');
    case 'b':
      return arg.value instanceof Uint8Array ? { type: 'b', value: arg.value } : bad('a Uint8Array for type "b"');
    case 'T':
    case 'F':
    case 'N':
      return { type: arg.type };
    default:
      return bad('type one of i h f s b T F N');
  }
}

/*
 * Structured replies (`sendJson`) — the split-reply convention.
 *
 *   fits in maxPacketBytes:   <address> ...prefix <json:s>
 *   otherwise (n ≥ 2 parts):  <address> ...prefix <index:i> <count:i> <chunk:s>   index = 0 … n-1
 *
 * The chunks are consecutive slices of the UTF-8 JSON text, cut on code point boundaries (never
 * inside a character), each as large as maxPacketBytes allows; joining them in index order gives
 * the JSON text back. Parts are sent in index order, but UDP may reorder or drop them: a receiver
 * collects parts keyed by (sender, address, prefix, count), sorts by index, and gives up on a set
 * that is not complete within its timeout (see OscClient). A message is a part exactly when its
 * last three type tags are "iis" with 0 ≤ index < count and count ≥ 2; so that a single-message
 * reply can never look like a part, `prefix` must not end with two 'i' arguments (sendJson throws).
 */
export function encodeJsonReply(
  address: string,
  value: unknown,
  prefix: readonly OscSendArg[] = [],
  maxPacketBytes: number = DEFAULT_MAX_PACKET_BYTES,
): Uint8Array[] {
  const last = prefix.at(-1);
  const beforeLast = prefix.at(-2);
  if (isIntArg(last) && isIntArg(beforeLast)) {
    throw new OscTransportError(ErrorCode.OSC_JSON_PREFIX_AMBIGUOUS, 'prefix args must not end with two "i" args (a reply would read as a split part); send one of them as "f" or "s"');
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new OscTransportError(ErrorCode.OSC_JSON_UNSERIALIZABLE, `JSON.stringify failed: ${errorText(err)}`);
  }
  if (json === undefined) throw new OscTransportError(ErrorCode.OSC_JSON_UNSERIALIZABLE, `cannot encode ${typeof value} as JSON`);
  const single = encodeMessage(address, [...prefix, json]);
  if (single.length <= maxPacketBytes) return [single];
  // A part is the same message with two ints and an empty chunk (4 bytes), plus pad4(chunk + NUL).
  const overhead = encodeMessage(address, [...prefix, { type: 'i', value: 0 }, { type: 'i', value: 0 }, '']).length;
  const maxChunkBytes = ((maxPacketBytes - overhead + 4) & ~3) - 1;
  if (maxChunkBytes < 4) {
    throw new OscTransportError(ErrorCode.OSC_PACKET_TOO_BIG, `address and prefix take ${overhead} of ${maxPacketBytes} bytes: no room for a JSON chunk`);
  }
  const chunks = splitUtf8(json, maxChunkBytes);
  return chunks.map((chunk, index) =>
    encodeMessage(address, [...prefix, { type: 'i', value: index }, { type: 'i', value: chunks.length }, chunk]),
  );
}

/** A safe integer as the two signed 32-bit words osc.js writes for 'h' (big-endian: high, then low). */
function int64Words(value: number): { high: number; low: number } {
  const high = Math.floor(value / 0x1_0000_0000);
  const low = value - high * 0x1_0000_0000; // 0 … 2^32 − 1
  return { high, low: low | 0 };
}

function isIntArg(arg: OscSendArg | undefined): boolean {
  return typeof arg === 'object' && arg !== null && !Array.isArray(arg) && !(arg instanceof Uint8Array) && arg.type === 'i';
}

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes, never inside a code point. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i) as number; // i < length, so defined
    const units = cp > 0xffff ? 2 : 1;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    i += units;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces;
}

// ───────────────────────────── the transport ─────────────────────────────

/** Control thread. One UDP socket; decoded messages go to `onMessage`, replies go out with `send`. */
export class OscTransport {
  /** Called once per decoded message, in packet order. Exceptions are caught (→ `onError`). */
  onMessage: (msg: IncomingMessage) => void = () => {};
  /** Called once per refused datagram with who sent it, why, and its size in bytes. */
  onBadPacket: (remote: Remote, reason: string, bytes: number) => void = () => {};
  /** Socket errors, failed sends and exceptions thrown by the handlers. Default: a process warning. */
  onError: (err: Error) => void = (err) => process.emitWarning(err);

  readonly host: string;
  /** The port actually bound (useful when opened with port 0). */
  readonly port: number;
  readonly maxPacketBytes: number;
  /** The receive buffer the OS granted (getRecvBufferSize), as it reports it. */
  readonly recvBufferBytes: number;
  /** Why the asked-for receive buffer could not be set, or null. */
  readonly recvBufferProblem: string | null;
  readonly allow: SenderAllowList | null;
  readonly stats: OscTransportStats = {
    denied: 0, packets: 0, okPackets: 0, badPackets: 0, messages: 0, handlerErrors: 0, sent: 0, sendErrors: 0,
  };

  readonly #socket: dgram.Socket;
  #closed = false;
  readonly #closing: Promise<void>;

  private constructor(socket: dgram.Socket, host: string, maxPacketBytes: number, allow: SenderAllowList | null, recvBufferProblem: string | null) {
    this.#socket = socket;
    this.host = host;
    this.port = socket.address().port;
    this.maxPacketBytes = maxPacketBytes;
    this.allow = allow;
    this.recvBufferProblem = recvBufferProblem;
    this.recvBufferBytes = socket.getRecvBufferSize();
    this.#closing = new Promise((resolve) => socket.once('close', resolve));
    socket.on('message', (data, rinfo) => this.#receive(data, { address: rinfo.address, port: rinfo.port }));
    socket.on('error', (err) => this.#report(err));
  }

  /** Binds the socket. Rejects with OSC_BIND_FAILED (e.g. the port is taken) or OSC_OPTIONS_INVALID. */
  static async open(options: OscTransportOptions): Promise<OscTransport> {
    const host = options.host ?? '127.0.0.1';
    const { port } = options;
    const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new OscTransportError(ErrorCode.OSC_OPTIONS_INVALID, `port must be an integer 0–65535 (0 = any free port), got ${String(port)}`);
    }
    if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < MIN_PACKET_BYTES || maxPacketBytes > DEFAULT_MAX_PACKET_BYTES) {
      throw new OscTransportError(ErrorCode.OSC_OPTIONS_INVALID, `maxPacketBytes must be an integer ${MIN_PACKET_BYTES}–${DEFAULT_MAX_PACKET_BYTES}, got ${String(maxPacketBytes)}`);
    }
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(new OscTransportError(ErrorCode.OSC_BIND_FAILED, `cannot bind UDP ${host}:${port}: ${err.message} (is another engine using the port? choose another with CHRONUS_OSC_PORT or osc.port)`));
      };
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    let recvBufferProblem: string | null = null;
    if (options.recvBufferSize !== undefined && options.recvBufferSize > 0) {
      try {
        socket.setRecvBufferSize(options.recvBufferSize);
      } catch (err) {
        recvBufferProblem = `cannot set the receive buffer to ${options.recvBufferSize} bytes: ${errorText(err)}`;
      }
    }
    const transport = new OscTransport(socket, host, maxPacketBytes, options.allow ?? null, recvBufferProblem);
    // The codec now, with the socket bound (what arrives meanwhile waits in its buffer): loaded later,
    // on a control half's first send, it ran inside that call's time limit, and on a loaded machine a
    // load cut off by the limit left the module half made for good ("writeMessage is not a function").
    osc();
    trace('listening on %s:%d (receive buffer %d bytes)', host, transport.port, transport.recvBufferBytes);
    return transport;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one message (see `OscSendArg` for typing). Throws `OscTransportError` for arguments it
   * cannot encode and for a packet over `maxPacketBytes` (OSC_PACKET_TOO_BIG: use `sendJson`).
   * Socket failures and sends after `close()` are not thrown: they go to `onError`.
   */
  send(remote: Remote, address: string, args: readonly OscSendArg[] = []): void {
    const bytes = encodeMessage(address, args);
    if (bytes.length > this.maxPacketBytes) {
      throw new OscTransportError(ErrorCode.OSC_PACKET_TOO_BIG, `${address}: ${bytes.length} bytes exceeds maxPacketBytes ${this.maxPacketBytes}; send structured data with sendJson (it splits)`);
    }
    this.sendRaw(remote, bytes);
  }

  /**
   * Sends `value` as JSON in a string argument after `prefix`, split over several messages if it
   * does not fit in `maxPacketBytes` (convention above `encodeJsonReply`). Returns the number of
   * datagrams sent (1 when it fits).
   */
  sendJson(remote: Remote, address: string, value: unknown, prefix: readonly OscSendArg[] = []): number {
    const packets = encodeJsonReply(address, value, prefix, this.maxPacketBytes);
    for (const bytes of packets) this.sendRaw(remote, bytes);
    return packets.length;
  }

  /** Sends already-encoded bytes as one datagram (no size check). */
  sendRaw(remote: Remote, bytes: Uint8Array): void {
    if (this.#closed) {
      this.#report(new OscTransportError(ErrorCode.OSC_TRANSPORT_CLOSED, `send to ${remote.address}:${remote.port} after close()`));
      this.stats.sendErrors++;
      return;
    }
    this.stats.sent++;
    this.#socket.send(bytes, remote.port, remote.address, (err) => {
      if (err) {
        this.stats.sendErrors++;
        this.#report(new OscTransportError(ErrorCode.OSC_SEND_FAILED, `send to ${remote.address}:${remote.port} failed: ${err.message}`));
      }
    });
  }

  /** Closes the socket; resolves once it is closed. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.close();
    }
    return this.#closing;
  }

  #receive(data: Uint8Array, remote: Remote): void {
    if (this.allow && !this.allow.allows(remote.address)) {
      this.stats.denied++;
      return;
    }
    this.stats.packets++;
    const result = decodePacket(data, remote);
    if (!result.ok) {
      this.stats.badPackets++;
      trace('bad packet from %s:%d (%d bytes): %s', remote.address, remote.port, data.length, result.reason);
      try {
        this.onBadPacket(remote, result.reason, data.length);
      } catch (err) {
        this.#handlerFailed(err);
      }
      return;
    }
    this.stats.okPackets++;
    for (const msg of result.messages) {
      this.stats.messages++;
      try {
        this.onMessage(msg);
      } catch (err) {
        this.#handlerFailed(err);
      }
    }
  }

  #handlerFailed(err: unknown): void {
    this.stats.handlerErrors++;
    this.#report(err instanceof Error ? err : new Error(errorText(err)));
  }

  #report(err: Error): void {
    try {
      this.onError(err);
    } catch {
      // The error sink itself failed: nothing sane is left to tell; never let it reach the socket.
    }
  }
}

// ───────────────────────────── helpers ─────────────────────────────

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  if (bytes.length < ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return true;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

function utf8(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

/** Type tags for a reason text: escaped (no raw control bytes in logs or /error replies). */
function quoted(tags: string): string {
  return JSON.stringify(`,${tags}`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function clip(text: string): string {
  return text.length <= REASON_MAX_CHARS ? text : `${text.slice(0, REASON_MAX_CHARS - 1)}…`;
}

function describe(value: unknown): string {
  try {
    if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
    const text = JSON.stringify(value);
    return text === undefined ? typeof value : clip(text);
  } catch {
    return typeof value;
  }
}

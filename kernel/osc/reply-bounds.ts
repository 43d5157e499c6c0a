/**
 * Bounds on what the engine says back (control thread, pure): no reply ever quotes more than
 * MAX_QUOTE_CHARS characters of a client's input, carries raw control characters, or outgrows a
 * datagram. The router applies `boundError` to every `/error` it sends; the engine's replier applies
 * `fitTextArgs` to any text reply that does not encode or fit. Nowhere else needs to care.
 */
import { ErrorCode } from '../base/errors.ts';

/** Characters of one client input (an address, a string argument, a file's key) an /error may quote. */
export const MAX_QUOTE_CHARS = 200;
/** An /error message is clipped to this many characters (the engine log keeps the whole text). */
export const MAX_ERROR_MESSAGE_CHARS = 2000;
/** Error codes are short identifiers; anything longer is not one. */
export const MAX_ERROR_CODE_CHARS = 64;

const ELLIPSIS = '…';
// C0 controls except tab and newline, DEL, and C1 controls; unpaired surrogates (not encodable as UTF-8).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const escape = (c: string): string => {
  const code = c.charCodeAt(0);
  return code >= 0xd800 && code <= 0xdfff ? '\ufffd' : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * `text` with control characters written as `\u0000`-style escapes (NUL included) and unpaired
 * surrogates as U+FFFD. Newlines and tabs stay unless `singleLine` (addresses, status lines).
 */
export function cleanText(text: string, singleLine = false): string {
  return text.replace(singleLine ? CONTROL_OR_NEWLINE : CONTROL, escape);
}

/** At most `max` characters (the last one an ellipsis when cut); never splits a surrogate pair. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
  return `${text.slice(0, end)}${ELLIPSIS}`;
}

/**
 * A multi-line message (summary, one line per problem, hint) cut to `max` characters by dropping
 * whole problem lines from the middle: the first lines and the last (the hint) stay, with a line
 * saying how many were left out. A message of one or two lines is simply clipped.
 */
export function clipLines(text: string, max: number): string {
  if (text.length <= max) return text;
  const lines = text.split('\n');
  if (lines.length < 3) return clipText(text, max);
  const last = clipText(lines[lines.length - 1], Math.floor(max / 4));
  let room = max - last.length - 40;
  const head: string[] = [];
  for (const line of lines.slice(0, -1)) {
    const cut = clipText(line, Math.max(0, room - 1));
    if (head.length > 0 && cut.length < line.length) break;
    if (cut.length === 0) break;
    head.push(cut);
    room -= cut.length + 1;
    if (cut.length < line.length) break;
  }
  const left = lines.length - 1 - head.length;
  return clipText([...head, `  … and ${left} more line${left === 1 ? '' : 's'}`, last].join('\n'), max);
}

/** Probes into a long input: PROBE_CHARS long, one every PROBE_STRIDE characters (any quote longer than MAX_QUOTE_CHARS holds one whole). */
const PROBE_CHARS = 32;
const PROBE_STRIDE = MAX_QUOTE_CHARS - PROBE_CHARS;

/**
 * `message` with every quote of more than MAX_QUOTE_CHARS characters of a long input — the input as
 * it is or any stretch of it (trimmed, cut), raw or as JSON escapes it — cut down to its first
 * MAX_QUOTE_CHARS characters and the input's length. Found by probing the message with short
 * stretches of the input and extending each match both ways.
 */
export function boundQuotes(message: string, inputs: readonly string[]): string {
  for (const input of inputs) {
    if (input.length <= MAX_QUOTE_CHARS) continue;
    message = cutQuotes(message, input, input.length);
    const escaped = JSON.stringify(input).slice(1, -1);
    if (escaped !== input) message = cutQuotes(message, escaped, input.length);
  }
  return message;
}

function cutQuotes(message: string, input: string, inputLength: number): string {
  for (let start = 0; start + PROBE_CHARS <= input.length; start += PROBE_STRIDE) {
    const probe = input.slice(start, start + PROBE_CHARS);
    let at = message.indexOf(probe);
    while (at >= 0) {
      let from = at;
      let j = start;
      while (from > 0 && j > 0 && message[from - 1] === input[j - 1]) (from--, j--);
      let to = at + PROBE_CHARS;
      let k = start + PROBE_CHARS;
      while (to < message.length && k < input.length && message[to] === input[k]) (to++, k++);
      if (to - from > MAX_QUOTE_CHARS) {
        const quote = `${clipText(message.slice(from, to), MAX_QUOTE_CHARS + 1)}(${inputLength} characters)`;
        message = message.slice(0, from) + quote + message.slice(to);
        to = from + quote.length;
      }
      at = message.indexOf(probe, Math.max(at + 1, to - PROBE_CHARS + 1));
    }
  }
  return message;
}

export interface ErrorParts {
  address: string;
  code: string;
  message: string;
}

/**
 * The three strings of `/error <address> <code> <message>`, bounded: the address quoted at most
 * MAX_QUOTE_CHARS characters, the code a short single line, the message with long inputs cut to a
 * quote, control characters escaped and the whole at most MAX_ERROR_MESSAGE_CHARS characters.
 */
export function boundError(address: string, code: unknown, message: string, inputs: readonly string[] = []): ErrorParts {
  const all = address.length > MAX_QUOTE_CHARS ? [address, ...inputs] : inputs;
  return {
    address: cleanText(clipText(address, MAX_QUOTE_CHARS), true),
    code: clipText(cleanText(typeof code === 'string' && code !== '' ? code : ErrorCode.OSC_HANDLER_FAILED, true), MAX_ERROR_CODE_CHARS),
    message: clipLines(cleanText(boundQuotes(message, all)), MAX_ERROR_MESSAGE_CHARS),
  };
}

/** Every string in an argument list, lists flattened (the inputs an /error might quote). */
export function stringsOf(args: readonly unknown[], out: string[] = []): string[] {
  for (const a of args) {
    if (typeof a === 'string') out.push(a);
    else if (Array.isArray(a)) stringsOf(a, out);
  }
  return out;
}

/** UTF-8 bytes of `text`. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, ending in an ellipsis when cut. */
export function clipUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const room = maxBytes - utf8Bytes(ELLIPSIS);
  if (room <= 0) return '';
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const b = utf8Bytes(ch);
    if (bytes + b > room) break;
    bytes += b;
    end += ch.length;
  }
  return `${text.slice(0, end)}${ELLIPSIS}`;
}

/**
 * A text reply's arguments made to fit `budget` bytes of string payload: strings cleaned of control
 * characters, then the longest cut (an OSC string costs its UTF-8 bytes plus 1–4 bytes of padding)
 * until the total fits. Returns null if even empty strings would not fit.
 */
export function fitTextArgs(args: readonly unknown[], budget: number): unknown[] | null {
  const out = args.map((a) => (typeof a === 'string' ? cleanText(a) : a));
  const cost = (s: string) => ((utf8Bytes(s) + 4) & ~3);
  const strings = () => out.flatMap((a, i) => (typeof a === 'string' ? [i] : []));
  let total = strings().reduce((n, i) => n + cost(out[i] as string), 0);
  while (total > budget) {
    const idx = strings().sort((a, b) => utf8Bytes(out[b] as string) - utf8Bytes(out[a] as string))[0];
    if (idx === undefined || (out[idx] as string) === '') return null;
    const s = out[idx] as string;
    const excess = total - budget;
    const next = clipUtf8(s, Math.max(0, utf8Bytes(s) - excess - 4));
    const shorter = next.length < s.length ? next : '';
    total += cost(shorter) - cost(s);
    out[idx] = shorter;
  }
  return out;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * The size in bytes of the OSC message `address args` as the transport would encode it (plain
 * numbers as 'f', see OscSendArg), or why it cannot be encoded at all. Computed without the OSC
 * library, so an offline engine checks its replies without loading it.
 */
export function oscMessageSize(address: string, args: readonly unknown[]): number | string {
  if (typeof address !== 'string' || !address.startsWith('/')) return 'the address does not start with "/"';
  if (address.includes('\0')) return 'the address contains a NUL character';
  let tags = 0;
  const argBytes = (arg: unknown, where: string): number | string => {
    if (arg === null || typeof arg === 'boolean') return (tags++, 0);
    if (typeof arg === 'number') return (tags++, 4);
    if (typeof arg === 'string') return arg.includes('\0') ? `${where} contains a NUL character` : (tags++, oscStringBytes(arg));
    if (arg instanceof Uint8Array) return (tags++, 4 + ((arg.length + 3) & ~3));
    if (Array.isArray(arg)) {
      tags += 2;
      let n = 0;
      for (let i = 0; i < arg.length; i++) {
        const b = argBytes(arg[i], `${where}[${i}]`);
        if (typeof b === 'string') return b;
        n += b;
      }
      return n;
    }
    if (typeof arg === 'object') {
      const { type, value } = arg as { type?: unknown; value?: unknown };
      tags++;
      switch (type) {
        case 'i':
          return Number.isInteger(value) && (value as number) >= -0x80000000 && (value as number) <= 0x7fffffff ? 4 : `${where} is not an int32`;
        case 'h':
          return Number.isSafeInteger(value) ? 8 : `${where} is not a safe integer`;
        case 'f':
          return typeof value === 'number' ? 4 : `${where} is not a number`;
        case 's':
          return typeof value === 'string' && !value.includes('\0') ? oscStringBytes(value) : `${where} is not a string without NUL`;
        case 'b':
          return value instanceof Uint8Array ? 4 + ((value.length + 3) & ~3) : `${where} is not a Uint8Array`;
        case 'T':
        case 'F':
        case 'N':
          return 0;
        default:
          return `${where} has no OSC type`;
      }
    }
    return `${where} (${typeof arg}) has no OSC type`;
  };
  let body = 0;
  for (let i = 0; i < args.length; i++) {
    const b = argBytes(args[i], `argument ${i + 1}`);
    if (typeof b === 'string') return b;
    body += b;
  }
  return oscStringBytes(address) + ((tags + 1 + 4) & ~3) + body;
}

/** An OSC string: its UTF-8 bytes, a NUL, padded to a multiple of 4. */
function oscStringBytes(s: string): number {
  return (utf8Bytes(s) + 4) & ~3;
}

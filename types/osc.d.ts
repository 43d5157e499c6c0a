/**
 * Narrow typings for the parts of `osc` 2.4.5 (osc.js) that Chronus uses.
 *
 * The package ships no types and only its default export works from ESM
 * (`import osc from 'osc'`). We use it as a codec only: `readMessage` to decode
 * one OSC message (with `metadata: true`, so every argument keeps its type tag),
 * and `writePacket` / `writeMessage` to encode (with `metadata: true`, otherwise
 * every number is written as a float). Sockets are plain `node:dgram`
 * (see kernel/osc/osc-transport.ts for why).
 */
declare module 'osc' {
  /** Raw NTP time tag: [seconds since 1900-01-01, fraction of a second in units of 2^-32 s]. */
  export type OscRawTimeTag = [number, number];

  /** A time tag as osc.js reads it (`native` is JS ms; for "immediately" it is `Date.now()`). */
  export interface OscReadTimeTag {
    raw: OscRawTimeTag;
    native: number;
  }

  /** A time tag to write: either the raw NTP pair or JS milliseconds since the Unix epoch. */
  export type OscWriteTimeTag = { raw: OscRawTimeTag } | { native: number };

  /** 64-bit integer ('h') as read by osc.js: an instance of the `long` package. */
  export interface OscLong {
    high: number;
    low: number;
    unsigned: boolean;
    toNumber(): number;
  }

  /** RGBA colour ('r') as read by osc.js. */
  export interface OscColor {
    r: number;
    g: number;
    b: number;
    a: number;
  }

  /** What a single argument's value can be when read with `metadata: true`. */
  export type OscReadValue =
    | number
    | string
    | boolean
    | null
    | Uint8Array
    | OscLong
    | OscColor
    | OscReadTimeTag;

  /** One argument read with `metadata: true`; OSC lists ('[' … ']') come back as plain arrays. */
  export type OscReadArg = { type: string; value: OscReadValue } | OscReadArg[];

  /** One argument to write with `metadata: true`; arrays are written as OSC lists. */
  export type OscWriteArg =
    | { type: 'i' | 'f' | 'd'; value: number }
    | { type: 's' | 'S'; value: string }
    | { type: 'b'; value: Uint8Array }
    | { type: 'T' | 'F' | 'N' | 'I'; value?: unknown }
    | { type: 't'; value: OscWriteTimeTag }
    | { type: 'h'; value: { high: number; low: number } }
    | { type: 'c'; value: string }
    | { type: 'r'; value: OscColor }
    | { type: 'm'; value: Uint8Array }
    | OscWriteArg[];

  export interface OscReadOptions {
    metadata: boolean;
    /** osc.js default `true` returns a lone argument unwrapped (not in an array): we always pass `false`. */
    unpackSingleArgs: boolean;
  }

  export interface OscWriteOptions {
    metadata: boolean;
  }

  /** Cursor into the bytes being read; osc.js advances `idx` as it reads. */
  export interface OscOffsetState {
    idx: number;
  }

  export interface OscReadMessage {
    address: string;
    args: OscReadArg[];
  }

  export interface OscWriteMessage {
    address: string;
    args: OscWriteArg[];
  }

  export interface OscWriteBundle {
    timeTag: OscWriteTimeTag;
    packets: Array<OscWriteMessage | OscWriteBundle>;
  }

  export interface Osc {
    /** Seconds between 1900-01-01 (NTP epoch) and 1970-01-01 (Unix epoch): 2208988800. */
    readonly SECS_70YRS: number;
    /** 2^32. */
    readonly TWO_32: number;
    /**
     * Decodes one message starting at `offsetState.idx` (default 0). Throws on malformed input.
     * Quirk: blobs/MIDI/colour are read from `dv.buffer` ignoring the view's byteOffset, so pass
     * bytes that start at offset 0 of their own ArrayBuffer.
     */
    readMessage(data: Uint8Array, options: OscReadOptions, offsetState?: OscOffsetState): OscReadMessage;
    /** Encodes a message or a bundle. Throws on an invalid packet. */
    writePacket(packet: OscWriteMessage | OscWriteBundle, options: OscWriteOptions): Uint8Array;
    writeMessage(message: OscWriteMessage, options: OscWriteOptions): Uint8Array;
    /** A raw time tag `secs` seconds from `now` (JS ms, default Date.now()). */
    timeTag(secs: number, now?: number): { raw: OscRawTimeTag };
    ntpToJSTime(secs1900: number, frac: number): number;
    jsToNTPTime(jsTime: number): OscRawTimeTag;
  }

  const osc: Osc;
  export default osc;
}

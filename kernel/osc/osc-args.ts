/**
 * Typed reply arguments (control thread). A plain number in a reply goes out as float32 ('f'), which
 * holds whole numbers exactly only up to 2^24 — a frame count at 48 kHz stops being exact after
 * 5.8 minutes. Counts, slots and indices go out as OSC integers: `oscInt` (int32 'i') or `oscInt64`
 * (int64 'h', for counts that can pass 2^31 such as frames).
 */

/** `oscInt` (int32 'i') and `oscInt64` (int64 'h'): one definition, the SDK's (control halves reply with them too). */
export { oscInt, oscInt64 } from '../../plugin-sdk/control.ts';

/** Reply arguments as plain values (typed ones unwrapped): what a receiver decodes, for in-process observers and the console. */
export function plainArgs(args: readonly unknown[]): unknown[] {
  return args.map((a) => (isTyped(a) ? a.value : a));
}

function isTyped(a: unknown): a is { type: string; value: unknown } {
  return a !== null && typeof a === 'object' && !Array.isArray(a) && !(a instanceof Uint8Array) && typeof (a as { type?: unknown }).type === 'string' && 'value' in a;
}

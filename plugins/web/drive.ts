/**
 * What a client of the web port may drive, and how its messages reach the engine: exactly as an OSC
 * client's would (`ctx.engine.send`: the same router, validation, clamping and smoothing).
 *
 * Only parameters (`/mod/…`), gates (`/gate/…`) and the recorder (`/engine/record/…`) are open here:
 * nothing sent to the web port writes a file but the recorder. Everything else (patterns, the
 * sequencer, schema files) stays on the OSC port.
 */
import type { ControlContext } from 'plugin-sdk';

const OPEN = /^\/(mod|gate)\/[A-Za-z0-9_./-]+$|^\/engine\/record\/(start|stop|status)$/;

export const NOT_ALLOWED = 'WEB_NOT_ALLOWED';

export function mayDrive(address: string): boolean {
  return typeof address === 'string' && address.length <= 200 && OPEN.test(address);
}

/**
 * Sends `address args` as a client would, replies to `onReply`; an address not open here answers
 * `/error <address> WEB_NOT_ALLOWED <why>` without reaching the engine.
 */
export async function drive(ctx: ControlContext, address: string, args: readonly unknown[], onReply: (address: string, args: unknown[]) => void): Promise<void> {
  if (!mayDrive(address)) {
    onReply('/error', [String(address).slice(0, 200), NOT_ALLOWED, 'the web port drives parameters (/mod/…), gates (/gate/…) and the recorder (/engine/record/…); send anything else over OSC']);
    return;
  }
  // OSC true/false as 1/0 (a gate); what is neither a number nor a string has no meaning here.
  const plain = args.map((a) => (typeof a === 'boolean' ? (a ? 1 : 0) : a)).filter((a) => typeof a === 'number' || typeof a === 'string').slice(0, 8);
  await ctx.engine.send(address, plain, (a, v) => onReply(a, [...v]));
}

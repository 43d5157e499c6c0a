/**
 * How the engine's replies leave it (control thread): to the test/offline hook `onReply` and the UDP
 * transport. It never throws. A reply that cannot be encoded (a NUL in a string, a value with no OSC
 * type, JSON that does not serialise) or does not fit a datagram is, in this order:
 * - a text reply (/error, /engine/error, /engine/notice, /late): cleaned and clipped to fit (`clipped`);
 * - any other: replaced by `/error <reply address> OSC_REPLY_UNSENDABLE <why>` (`replaced`);
 * - and if not even that fits (a tiny osc.maxPacketBytes), dropped (`dropped`).
 * Socket failures are the transport's (counted in its stats, never thrown).
 */
import { debuglog } from 'node:util';
import { ErrorCode } from '../base/errors.ts';
import type { Remote, Replier } from './osc-router.ts';
import type { OscSendArg, OscTransport } from './osc-transport.ts';
import { clipText, fitTextArgs, MAX_QUOTE_CHARS, oscMessageSize } from './reply-bounds.ts';

const trace = debuglog('chronus:reply');

/** Replies made of text meant for people: cut to fit rather than replaced. */
const TEXT_REPLIES = new Set(['/error', '/engine/error', '/engine/notice', '/late']);

export interface ReplyCounters {
  /** Text replies cut to fit a datagram (or cleaned of what OSC cannot carry). */
  clipped: number;
  /** Replies that could not be sent and went out as a short /error instead. */
  replaced: number;
  /** Replies that could not be sent in any form. */
  dropped: number;
}

export interface ReplyOutlets {
  transport(): OscTransport | null;
  onReply(): ((remote: Remote, address: string, args: readonly unknown[]) => void) | null;
  /** The largest datagram a reply may take. */
  maxPacketBytes(): number;
}

/** The address of a client inside the engine (a plugin's `ctx.engine.send`): its replies are handed over, not sent. */
export const LOCAL_ADDRESS = 'local';

export class EngineReplier implements Replier {
  readonly counters: ReplyCounters = { clipped: 0, replaced: 0, dropped: 0 };
  /** Clients inside the engine, by port number (kernel/engine/engine-view.ts). */
  readonly locals = new Map<number, (address: string, args: readonly unknown[]) => void>();

  constructor(private readonly out: ReplyOutlets) {}

  send(remote: Remote, address: string, args: readonly unknown[]): void {
    if (remote.address === LOCAL_ADDRESS) return this.local(remote, address, args);
    try {
      const size = oscMessageSize(address, args);
      const max = this.out.maxPacketBytes();
      if (typeof size === 'number' && size <= max) return this.deliver(remote, address, args);
      const why = typeof size === 'string' ? size : `${size} bytes, more than a datagram (${max})`;
      trace('reply %s cannot go as it is: %s', clipText(address, MAX_QUOTE_CHARS), why);
      if (TEXT_REPLIES.has(address) && this.sendFitted(remote, address, args)) {
        this.counters.clipped++;
        return;
      }
      this.replace(remote, address, why);
    } catch (e) {
      this.counters.dropped++;
      trace('reply dropped: %s', (e as Error)?.message ?? String(e));
    }
  }

  sendJson(remote: Remote, address: string, value: unknown): void {
    if (remote.address === LOCAL_ADDRESS) {
      let json: string;
      try {
        json = JSON.stringify(value) ?? 'null';
      } catch (e) {
        return this.local(remote, '/error', [address, ErrorCode.OSC_REPLY_UNSENDABLE, (e as Error)?.message ?? String(e)]);
      }
      return this.local(remote, address, [json]);
    }
    try {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (e) {
        return this.replace(remote, address, `its JSON does not serialise (${(e as Error)?.message ?? String(e)})`);
      }
      if (json === undefined) return this.replace(remote, address, `${typeof value} has no JSON form`);
      this.out.onReply()?.(remote, address, [json]);
      const transport = this.out.transport();
      if (!transport) return;
      try {
        transport.sendJson(remote, address, value);
      } catch (e) {
        this.replace(remote, address, (e as Error)?.message ?? String(e));
      }
    } catch (e) {
      this.counters.dropped++;
      trace('JSON reply dropped: %s', (e as Error)?.message ?? String(e));
    }
  }

  /** A reply to a client inside the engine: handed to its handler (which must not throw; if it does, the reply is dropped). */
  private local(remote: Remote, address: string, args: readonly unknown[]): void {
    try {
      this.locals.get(remote.port)?.(address, args);
    } catch {
      this.counters.dropped++;
    }
  }

  private deliver(remote: Remote, address: string, args: readonly unknown[]): void {
    this.out.onReply()?.(remote, address, args);
    this.out.transport()?.send(remote, address, args as readonly OscSendArg[]);
  }

  /** Cleaned and clipped to fit; false if it cannot fit at all. */
  private sendFitted(remote: Remote, address: string, args: readonly unknown[]): boolean {
    const empty = args.map((a) => (typeof a === 'string' ? '' : a));
    const fixed = oscMessageSize(address, empty);
    if (typeof fixed !== 'number') return false;
    const strings = args.filter((a) => typeof a === 'string').length;
    const fitted = fitTextArgs(args, this.out.maxPacketBytes() - fixed + 4 * strings);
    if (!fitted) return false;
    this.deliver(remote, address, fitted);
    return true;
  }

  private replace(remote: Remote, address: string, why: string): void {
    const message = `the reply ${clipText(address, MAX_QUOTE_CHARS)} cannot be sent: ${why}`;
    if (this.sendFitted(remote, '/error', [clipText(address, MAX_QUOTE_CHARS), ErrorCode.OSC_REPLY_UNSENDABLE, message])) this.counters.replaced++;
    else this.counters.dropped++;
  }
}

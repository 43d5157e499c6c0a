/**
 * The OSC router (control thread). `mapRoute` is the only way to add a route: each has a zod schema
 * for its arguments, checked before the handler runs. Unknown addresses, bad arguments and handler
 * failures answer the sender with `/error <address> <code> <message>` and are counted; nothing here
 * ever throws into the transport, and no handler failure (thrown, rejected, or with a reply that
 * cannot be sent) escapes as an unhandled rejection.
 *
 * Every /error is bounded here, in `fail`, for every route at once (kernel/osc/reply-bounds.ts): the
 * address and any long input quoted by the message are cut to MAX_QUOTE_CHARS characters, control
 * characters are escaped and the message is clipped; the replier makes the rest fit a datagram.
 *
 * Lenient where the old engine was: a command whose arguments are a fixed-length tuple ignores extra
 * trailing arguments (`/engine/start 1`, `/engine/plugin/reset lfo x`), counted in `counters.extraArgs`
 * rather than refused. The types of the arguments it takes are checked as strictly as ever, and a
 * route mapped with `strictArity` (the generated `/mod` and `/gate` routes) refuses extras too.
 */
import type { z } from 'zod';
import { ErrorCode, formatArgIssues } from '../base/errors.ts';
import { boundError, clipText, cleanText, MAX_QUOTE_CHARS, stringsOf } from './reply-bounds.ts';

export interface Remote {
  address: string;
  port: number;
}

export interface RouteMessage {
  address: string;
  args: readonly unknown[];
  remote?: Remote;
  /** Wall-clock ms since the Unix epoch at which the message should take effect (a bundle timetag). */
  timetag?: number | null;
  /** An exact target frame (offline scores); overrides `timetag`. */
  frame?: number;
}

/**
 * How replies leave the engine (the UDP transport, or a collector in tests and offline renders).
 * Implementations must not throw: a reply that cannot be sent is theirs to report and count.
 */
export interface Replier {
  send(remote: Remote, address: string, args: readonly unknown[]): void;
  sendJson(remote: Remote, address: string, value: unknown): void;
}

export interface RouteContext {
  readonly address: string;
  readonly remote: Remote | undefined;
  /** The frame the message takes effect at; -1 means at the next block. */
  readonly frame: number;
  reply(address: string, ...args: unknown[]): void;
  replyJson(address: string, value: unknown): void;
}

export type RouteHandler<A> = (args: A, ctx: RouteContext) => void | Promise<void>;

interface Route {
  address: string;
  description: string;
  args: z.ZodType;
  handler: RouteHandler<never>;
  /** Arguments beyond this many are ignored (a command with a fixed-length tuple); null: the schema sees them all. */
  maxArgs: number | null;
  /** Argument names for the schema export (`["slot", "[name]"]`), if given. */
  usage: readonly string[] | undefined;
  show: ((value: unknown) => string[]) | undefined;
}

export interface RouteOptions<S extends z.ZodType> {
  args: S;
  description: string;
  /** Argument names as the old engine's schema listed them, e.g. `["track_id", "[notes]"]`. */
  usage?: readonly string[];
  /** Refuse extra trailing arguments instead of ignoring them (parameter and gate routes). */
  strictArity?: boolean;
  /** How the engine's console shows a JSON reply sent on this route's own address. */
  show?: (value: unknown) => string[];
}

/** Maps a wall-clock timetag to a frame; `late` when that frame has already been rendered. */
export type TimetagClock = (timetagMs: number) => { frame: number; late: boolean; lateMs: number };

export class RouteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long anything waits for one asynchronous route handler (see the constructor). */
export const HANDLER_WAIT_MS = 10_000;

export class OscRouter {
  private readonly table = new Map<string, Route>();
  /** Address rewrites for old clients: an exact address, or a prefix when `from` ends with '/'. */
  private readonly aliases = new Map<string, string>();
  /** `handlersLate`: asynchronous handlers not finished after `handlerWaitMs`. `replyErrors`: replies the replier threw on (its contract says it never does; counted, not raised). `extraArgs`: messages whose extra trailing arguments were ignored. */
  readonly counters = { messages: 0, errors: 0, unknownAddress: 0, badArgs: 0, badPackets: 0, handlerErrors: 0, handlersLate: 0, late: 0, replyErrors: 0, extraArgs: 0 };
  /** The address of the last message, as received; made printable only when read (a score sends tens of thousands). */
  private lastAddress = '';
  private readonly pending = new Set<Promise<void>>();

  /** Told of every message a route took (its arguments as they came), once its handler finished (`failed`: it threw): a session journal. Never throws. */
  onHandled: ((address: string, args: readonly unknown[], failed: boolean) => void) | null = null;

  constructor(
    private readonly replier: Replier | null,
    private readonly clock: TimetagClock | null = null,
    /**
     * What waits for handlers (`/engine/ping`, `settle`, a control half's `ctx.engine.send`) waits for
     * one at most this long: a handler that never finishes holds up nothing (its sender is told).
     */
    private readonly handlerWaitMs = HANDLER_WAIT_MS,
  ) {}

  mapRoute<S extends z.ZodType>(address: string, handler: RouteHandler<z.infer<S>>, options: RouteOptions<S>): void {
    if (this.table.has(address)) throw new Error(`route ${address} is already mapped`);
    this.table.set(address, {
      address,
      description: options.description,
      args: options.args,
      handler: handler as RouteHandler<never>,
      maxArgs: options.strictArity ? null : fixedArity(options.args),
      usage: options.usage,
      show: options.show,
    });
  }

  hasRoute(address: string): boolean {
    return this.table.has(address);
  }

  unmapRoute(address: string): void {
    this.table.delete(address);
  }

  /** `/mod/sine1/` → `/mod/voice1/` (prefix) or `/gate/1` → `/gate/voice1` (exact). */
  alias(from: string, to: string): void {
    this.aliases.set(from, to);
  }

  unalias(from: string): void {
    this.aliases.delete(from);
  }

  private resolve(address: string): Route | undefined {
    const route = this.table.get(address);
    if (route) return route;
    for (const [from, to] of this.aliases) {
      if (address === from) return this.table.get(to);
      if (from.endsWith('/') && address.startsWith(from)) return this.table.get(to + address.slice(from.length));
    }
    return undefined;
  }

  /** The last message's address, clipped and with control characters escaped. */
  get lastMessage(): string {
    return cleanText(clipText(this.lastAddress, MAX_QUOTE_CHARS), true);
  }

  has(address: string): boolean {
    return this.table.has(address);
  }

  /** A route's argument names (RouteOptions.usage), if it has them. */
  usage(address: string): readonly string[] | undefined {
    return this.table.get(address)?.usage;
  }

  /** How the console shows a JSON reply on `address` (RouteOptions.show), if its route says. */
  showOf(address: string): ((value: unknown) => string[]) | undefined {
    return this.table.get(address)?.show;
  }

  routes(): { address: string; description: string }[] {
    const routes = [...this.table.values()].map((r) => ({ address: r.address, description: r.description }));
    for (const [from, to] of this.aliases) routes.push({ address: from.endsWith('/') ? `${from}*` : from, description: `alias of ${to.endsWith('/') ? `${to}*` : to}` });
    return routes.sort((a, b) => a.address.localeCompare(b.address));
  }

  /** A packet the transport could not decode. */
  badPacket(remote: Remote, reason: string): void {
    this.counters.badPackets++;
    this.fail(remote, '', ErrorCode.OSC_BAD_PACKET, reason);
  }

  dispatch(msg: RouteMessage): void {
    this.counters.messages++;
    this.lastAddress = msg.address;
    const route = this.resolve(msg.address);
    if (!route) {
      this.counters.unknownAddress++;
      this.fail(msg.remote, msg.address, ErrorCode.OSC_UNKNOWN_ADDRESS, `no route ${msg.address}; /engine/routes lists them`, msg.args);
      return;
    }
    // One value may come with or without a list wrapper: (440) and ([440]) are the same message.
    let raw = msg.args.length === 1 && Array.isArray(msg.args[0]) ? (msg.args[0] as unknown[]) : msg.args;
    if (route.maxArgs !== null && raw.length > route.maxArgs) {
      this.counters.extraArgs++;
      raw = raw.slice(0, route.maxArgs);
    }
    const parsed = route.args.safeParse(raw);
    if (!parsed.success) {
      this.counters.badArgs++;
      this.fail(msg.remote, msg.address, ErrorCode.OSC_BAD_ARGS, formatArgIssues(parsed.error), msg.args);
      return;
    }
    let frame = msg.frame ?? -1;
    if (msg.frame === undefined && msg.timetag != null && this.clock) {
      const when = this.clock(msg.timetag);
      if (when.late) {
        this.counters.late++;
        this.send(msg.remote, '/late', [cleanText(clipText(msg.address, MAX_QUOTE_CHARS), true), when.lateMs]);
      } else frame = when.frame;
    }
    const ctx: RouteContext = {
      address: msg.address,
      remote: msg.remote,
      frame,
      reply: (address, ...args) => this.send(msg.remote, address, args),
      replyJson: (address, value) => {
        if (!msg.remote || !this.replier) return;
        try {
          this.replier.sendJson(msg.remote, address, value);
        } catch (e) {
          this.replyFailed(e);
        }
      },
    };
    const handled = (failed: boolean) => this.onHandled?.(route.address, raw, failed);
    try {
      const done = route.handler(parsed.data as never, ctx);
      if (done && typeof done.then === 'function') {
        const finished = Promise.resolve(done)
          .then(
            () => handled(false),
            (e: unknown) => {
              handled(true);
              this.handlerFailed(msg, e);
            },
          )
          .catch((e: unknown) => this.replyFailed(e));
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            this.counters.handlersLate++;
            this.fail(msg.remote, msg.address, ErrorCode.OSC_HANDLER_LATE, `${route.address} has not finished after ${this.handlerWaitMs} ms; what it answers comes when it does`, msg.args);
            resolve();
          }, this.handlerWaitMs);
        });
        const tracked: Promise<void> = Promise.race([finished, late]).finally(() => {
          clearTimeout(timer);
          this.pending.delete(tracked);
        });
        this.pending.add(tracked);
      } else handled(false);
    } catch (e) {
      handled(true);
      this.handlerFailed(msg, e);
    }
  }

  /** Resolves when the asynchronous handlers started before this call have finished (not ones started later). */
  async settledSoFar(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Resolves when every asynchronous handler started so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private handlerFailed(msg: RouteMessage, e: unknown): void {
    this.counters.handlerErrors++;
    const { code, message } = describeFailure(e);
    this.fail(msg.remote, msg.address, code, message, msg.args);
  }

  /** `/error <address> <code> <message>`, bounded (reply-bounds.ts); `args` are the inputs it may quote. */
  private fail(remote: Remote | undefined, address: string, code: string, message: string, args: readonly unknown[] = []): void {
    this.counters.errors++;
    if (!remote) return;
    const e = boundError(address, code, message, stringsOf(args));
    this.send(remote, '/error', [e.address, e.code, e.message]);
  }

  /** Hands a reply to the replier; never throws (a replier that breaks its contract is counted). */
  private send(remote: Remote | undefined, address: string, args: readonly unknown[]): void {
    if (!remote || !this.replier) return;
    try {
      this.replier.send(remote, address, args);
    } catch (e) {
      this.replyFailed(e);
    }
  }

  private replyFailed(_e: unknown): void {
    this.counters.replyErrors++;
  }
}

/** The code and message of anything a handler threw or rejected with (even `undefined`), never throwing. */
export function describeFailure(e: unknown): { code: string; message: string } {
  try {
    const raw = e instanceof RouteError ? e.code : e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
    const code = typeof raw === 'string' && raw !== '' ? raw : ErrorCode.OSC_HANDLER_FAILED;
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : String(e);
    return { code, message: typeof message === 'string' ? message : String(message) };
  } catch {
    return { code: ErrorCode.OSC_HANDLER_FAILED, message: 'the handler failed with a value that cannot be described' };
  }
}

/** How many arguments a fixed-length tuple schema (or a union of them) takes at most; null for anything else. */
export function fixedArity(schema: z.ZodType): number | null {
  const def = (schema as unknown as { _zod?: { def?: { type?: string; items?: unknown[]; rest?: unknown; options?: z.ZodType[] } } })._zod?.def;
  if (def?.type === 'tuple' && Array.isArray(def.items) && (def.rest === null || def.rest === undefined)) return def.items.length;
  if (def?.type === 'union' && Array.isArray(def.options) && def.options.length > 0) {
    const arities = def.options.map(fixedArity);
    return arities.every((n): n is number => n !== null) ? Math.max(...arities) : null;
  }
  return null;
}

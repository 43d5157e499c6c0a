/**
 * A small OSC client (control side of the CLI `chronus send`, and tests): one ephemeral UDP port on
 * 127.0.0.1, fire-and-forget `send`, `request` that waits for the first matching reply, and `collect`
 * that gathers every reply a message brings.
 * Split JSON replies (see `encodeJsonReply` in osc-transport.ts) are reassembled before matching.
 */
import net from 'node:net';
import {
  OscTransport,
  type IncomingMessage,
  type OscSendArg,
  type OscValue,
  type Remote,
} from '../kernel/osc/osc-transport.ts';
import { ErrorCode } from '../kernel/base/errors.ts';

/** A reply as seen by the client: split JSON replies arrive here already joined. */
export interface OscReply {
  address: string;
  /** For a joined split reply: the prefix args followed by the whole JSON text (like a single reply). */
  args: OscValue[];
  typeTags: string;
  timetag: number | null;
  remote: Remote;
  /** The last argument parsed as JSON, when it is a string that parses; otherwise undefined. */
  json?: unknown;
  /** How many datagrams carried it: 1, or the part count of a split reply. */
  parts: number;
}

export interface RequestOptions {
  /** Reply address to wait for: exact string or RegExp. Default: any reply from that port. */
  replyAddress?: string | RegExp;
  /** Default 2000 ms. */
  timeoutMs?: number;
}

export interface CollectOptions {
  /** The longest wait, from sending (default 2000 ms). */
  timeoutMs?: number;
  /** The reply that ends the wait (not collected), e.g. `/engine/pong` for a message followed by `/engine/ping`. */
  until?: string;
  /** Also wait this long after `until` arrives, for stragglers (default 20 ms). */
  graceMs?: number;
  /** Sees each reply as it arrives (e.g. to print it at once). */
  onReply?: (reply: OscReply) => void;
}

export interface Collected {
  replies: OscReply[];
  /** Whether the `until` reply arrived. */
  ended: boolean;
}

export interface OscClientOptions {
  /** Largest datagram the client sends; default 65507. */
  maxPacketBytes?: number;
  /** How long an incomplete set of split-reply parts is kept; default 5000 ms. */
  partTimeoutMs?: number;
}

export class OscClientError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'OscClientError';
    this.code = code;
  }
}

interface Waiter {
  host: string;
  port: number;
  replyAddress: string | RegExp | undefined;
  resolve: (reply: OscReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface PartialReply {
  chunks: Array<string | undefined>;
  received: number;
  startedAt: number;
}

/** At most this many split replies are assembled at once; the oldest is dropped beyond it. */
const MAX_PARTIAL_REPLIES = 64;

export class OscClient {
  /** Replies that no pending `request` took (e.g. /viz/levels, or late replies). */
  onMessage: (reply: OscReply) => void = () => {};
  /** Datagrams from the network that did not decode. */
  onBadPacket: (remote: Remote, reason: string, bytes: number) => void = () => {};

  readonly #transport: OscTransport;
  readonly #partTimeoutMs: number;
  readonly #waiters: Waiter[] = [];
  readonly #partials = new Map<string, PartialReply>();

  private constructor(transport: OscTransport, partTimeoutMs: number) {
    this.#transport = transport;
    this.#partTimeoutMs = partTimeoutMs;
    transport.onMessage = (msg) => this.#receive(msg);
    transport.onBadPacket = (remote, reason, bytes) => this.onBadPacket(remote, reason, bytes);
  }

  /** Binds an ephemeral UDP port on 127.0.0.1. */
  static async open(options: OscClientOptions = {}): Promise<OscClient> {
    const transport = await OscTransport.open({ host: '127.0.0.1', port: 0, maxPacketBytes: options.maxPacketBytes });
    return new OscClient(transport, options.partTimeoutMs ?? 5000);
  }

  /** The local port replies come back to. */
  get port(): number {
    return this.#transport.port;
  }

  /** Sends one message (argument typing as `OscTransport.send`: plain numbers go out as 'f'). */
  send(host: string, port: number, address: string, args: readonly OscSendArg[] = []): void {
    this.#transport.send({ address: host, port }, address, args);
  }

  /** Sends pre-encoded bytes (a bundle built with the `osc` package, or junk in tests). */
  sendRaw(host: string, port: number, bytes: Uint8Array): void {
    this.#transport.sendRaw({ address: host, port }, bytes);
  }

  /**
   * Sends `address args` to host:port and resolves with the first reply from that port whose
   * address matches `replyAddress` (when `host` is an IP literal, the reply must also come from it).
   * Rejects with OSC_REQUEST_TIMEOUT after `timeoutMs`, or OSC_CLIENT_CLOSED on `close()`.
   */
  request(
    host: string,
    port: number,
    address: string,
    args: readonly OscSendArg[] = [],
    options: RequestOptions = {},
  ): Promise<OscReply> {
    const reply = this.waitFor(host, port, options);
    this.send(host, port, address, args);
    return reply;
  }

  /**
   * Sends each message to host:port, in order, and gathers every reply from that port (one message
   * may bring several: `/engine/stop` during a recording answers `/engine/record/stopped`, then
   * `/engine/stopped`) until the `until` reply arrives (plus `graceMs`) or `timeoutMs` from the start.
   * Resolves with them in arrival order (possibly none) and whether `until` came.
   */
  collect(host: string, port: number, messages: readonly { address: string; args?: readonly OscSendArg[] }[], options: CollectOptions = {}): Promise<Collected> {
    const timeoutMs = options.timeoutMs ?? 2000;
    const replies: OscReply[] = [];
    return new Promise<Collected>((resolve) => {
      const previous = this.onMessage;
      let ended = false;
      const finish = (): void => {
        clearTimeout(timer);
        this.onMessage = previous;
        resolve({ replies, ended });
      };
      let timer = setTimeout(finish, timeoutMs);
      this.onMessage = (reply) => {
        if (!matches({ host, port, replyAddress: undefined }, reply)) return previous(reply);
        if (options.until !== undefined && reply.address === options.until) {
          if (!ended) {
            ended = true;
            clearTimeout(timer);
            timer = setTimeout(finish, options.graceMs ?? 20);
          }
          return;
        }
        replies.push(reply);
        options.onReply?.(reply);
      };
      for (const m of messages) this.send(host, port, m.address, m.args ?? []);
    });
  }

  /** Waits for a reply without sending anything (register before triggering it). */
  waitFor(host: string, port: number, options: RequestOptions = {}): Promise<OscReply> {
    const timeoutMs = options.timeoutMs ?? 2000;
    return new Promise<OscReply>((resolve, reject) => {
      const waiter: Waiter = {
        host, port, replyAddress: options.replyAddress, resolve, reject,
        timer: setTimeout(() => {
          this.#removeWaiter(waiter);
          const what = options.replyAddress === undefined ? 'any reply' : `a reply to ${String(options.replyAddress)}`;
          reject(new OscClientError(ErrorCode.OSC_REQUEST_TIMEOUT, `no ${what} from ${host}:${port} within ${timeoutMs} ms (is the engine running and listening on that port?)`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Closes the socket and rejects pending requests. */
  async close(): Promise<void> {
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new OscClientError(ErrorCode.OSC_CLIENT_CLOSED, 'client closed while waiting for a reply'));
    }
    this.#partials.clear();
    await this.#transport.close();
  }

  #receive(msg: IncomingMessage): void {
    const reply = this.#assemble(msg);
    if (reply === null) return;
    const waiter = this.#waiters.find((w) => matches(w, reply));
    if (waiter === undefined) {
      this.onMessage(reply);
      return;
    }
    this.#removeWaiter(waiter);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }

  /** Returns the reply to deliver, or null while a split reply is still incomplete. */
  #assemble(msg: IncomingMessage): OscReply | null {
    const n = msg.args.length;
    const [index, count, chunk] = msg.args.slice(-3);
    const isPart = msg.typeTags.endsWith('iis') && n >= 3 && typeof index === 'number' &&
      typeof count === 'number' && typeof chunk === 'string' && count >= 2 && index >= 0 && index < count;
    if (!isPart) {
      return { ...msg, json: parseLastString(msg.args), parts: 1 };
    }
    const prefix = msg.args.slice(0, -3);
    const prefixTags = msg.typeTags.slice(0, -3);
    const key = JSON.stringify([msg.remote.address, msg.remote.port, msg.address, count, prefixTags, prefix.map(keyOf)]);
    const now = Date.now();
    this.#evictPartials(now);
    let partial = this.#partials.get(key);
    if (partial === undefined) {
      partial = { chunks: new Array<string | undefined>(count).fill(undefined), received: 0, startedAt: now };
      this.#partials.set(key, partial);
    }
    if (partial.chunks[index] === undefined) partial.received++;
    partial.chunks[index] = chunk;
    if (partial.received < count) return null;
    this.#partials.delete(key);
    const text = partial.chunks.join('');
    const args = [...prefix, text];
    return { address: msg.address, args, typeTags: `${prefixTags}s`, timetag: msg.timetag, remote: msg.remote, json: parseLastString(args), parts: count };
  }

  #evictPartials(now: number): void {
    for (const [key, partial] of this.#partials) {
      if (now - partial.startedAt > this.#partTimeoutMs || this.#partials.size >= MAX_PARTIAL_REPLIES) {
        this.#partials.delete(key); // Map iterates oldest first
      }
    }
  }

  #removeWaiter(waiter: Waiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
  }
}

function matches(waiter: Pick<Waiter, 'host' | 'port' | 'replyAddress'>, reply: OscReply): boolean {
  if (reply.remote.port !== waiter.port) return false;
  if (net.isIP(waiter.host) !== 0 && !isAnyAddress(waiter.host) && reply.remote.address !== waiter.host) return false;
  const want = waiter.replyAddress;
  if (want === undefined) return true;
  if (typeof want === 'string') return reply.address === want;
  want.lastIndex = 0; // a /g or /y RegExp is stateful
  return want.test(reply.address);
}

function isAnyAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function parseLastString(args: readonly OscValue[]): unknown {
  const last = args.at(-1);
  if (typeof last !== 'string') return undefined;
  try {
    return JSON.parse(last) as unknown;
  } catch {
    return undefined;
  }
}

function keyOf(value: OscValue): unknown {
  return value instanceof Uint8Array ? Array.from(value) : Array.isArray(value) ? value.map(keyOf) : value;
}

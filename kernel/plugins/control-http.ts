/**
 * HTTP + WebSocket servers of control halves (`ctx.http`, control thread). The kernel owns the
 * sockets and guards them before the plugin sees anything:
 *
 * | check                          | refused with                                            |
 * | ------------------------------ | ------------------------------------------------------- |
 * | sender beyond loopback         | the connection dropped, unless it is on `osc.allow`     |
 * | Host header not this machine   | 403 (a DNS-rebinding page names its own domain)         |
 * | method other than GET or HEAD  | 405 (no body is ever read)                              |
 * | WebSocket from another origin  | 403 (none, as non-browser tools send: let in)           |
 *
 * A server belongs to the version that opened it. A new version of the same plugin that asks for the
 * same host and port takes the listening socket over (no gap, no EADDRINUSE): requests go to the
 * newest open version, WebSockets of a version are closed with it (1012, "service restart": clients
 * reconnect to the new one), and the socket is closed when no version holds it any more — also when a
 * new version fails to start, so the old one keeps its server.
 */
import type * as http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { debuglog } from 'node:util';
import type { WebSocketServer, WebSocket, RawData } from 'ws';
import type { HttpOptions, HttpRequest, HttpResponse, PluginHttpServer, PluginWebSocket } from '../../plugin-sdk/control.ts';
import { ChronusError, ErrorCode } from '../base/errors.ts';
import { isLoopback, SenderAllowList } from '../osc/osc-allow-list.ts';
import { isThenable } from '../base/is-thenable.ts';
import type { VersionResources } from './control-resources.ts';

const trace = debuglog('chronus:http');

/** The async part of a request handler may take this long before the request is answered 500. */
const REQUEST_MS = 10_000;
/** A WebSocket `send` is refused (returns false) while this much waits to go out. */
const MAX_BUFFERED = 1 << 20;
/** The largest WebSocket message a client may send. */
const MAX_PAYLOAD = 1 << 20;
/** Connections one server keeps at once (HTTP and WebSocket together). */
const MAX_CONNECTIONS = 128;

type RequestHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;
type SocketHandler = (socket: PluginWebSocket, request: HttpRequest) => void;

/** One version's hold on a listening server. */
interface Holder {
  readonly resources: VersionResources;
  readonly origins: readonly string[];
  request: RequestHandler | null;
  socket: SocketHandler | null;
  readonly sockets: Set<WebSocket>;
  released: boolean;
}

interface Listening {
  readonly key: string;
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  readonly host: string;
  readonly port: number;
  /** Oldest first; the newest that has a handler answers. */
  readonly holders: Holder[];
}

/** The Host names that mean this machine: an IP literal, localhost, or the machine's own name (with `.local` for mDNS). */
export function hostAllowed(header: string | undefined): boolean {
  if (header === undefined) return true; // HTTP/1.0 clients send none; browsers always do
  const h = header.toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d*$/, '');
  if (net.isIP(name) !== 0) return true;
  const self = os.hostname().toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || name === self || name === `${self}.local`;
}

/** A WebSocket's Origin is the page this server served (same host and port as asked for), or one the plugin named. */
export function originAllowed(origin: string | undefined, host: string | undefined, extra: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (host !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`) return true;
  return extra.includes(origin);
}

/** The newest version that answers `what` (a version still in its create may not have said yet). */
function active(holders: readonly Holder[], what: 'request' | 'socket'): Holder | undefined {
  for (let i = holders.length - 1; i >= 0; i--) if (holders[i][what]) return holders[i];
  return undefined;
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function requestOf(req: http.IncomingMessage): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { method: req.method === 'HEAD' ? 'HEAD' : 'GET', url: req.url ?? '/', headers, remoteAddress: req.socket.remoteAddress ?? '' };
}

/** The reason phrases of the statuses an upgrade is refused with. */
const UPGRADE_REFUSALS: Readonly<Record<number, string>> = { 403: 'Forbidden', 503: 'Service Unavailable' };

function refuseUpgrade(socket: import('node:stream').Duplex, status: 403 | 503, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${UPGRADE_REFUSALS[status]}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

function withTimeout<T>(p: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the request handler did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(p), late]).finally(() => clearTimeout(timer));
}

export class ControlHttp {
  /** Listening servers by plugin, by `host:port` asked for. */
  private readonly servers = new Map<string, Map<string, Listening>>();
  private nextAnyPort = 1;

  /** `allow`: config osc.allow, the senders let in beyond loopback. */
  constructor(private readonly allow: readonly string[]) {}

  async open(pluginId: string, resources: VersionResources, options: HttpOptions = {}): Promise<PluginHttpServer> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ChronusError(ErrorCode.HTTP_LISTEN_FAILED, `plugin ${pluginId}: cannot listen on ${JSON.stringify(host)}:${JSON.stringify(port)}`, {
        hint: 'host is an address of this machine (default "127.0.0.1"); port an integer 0-65535 (0: any free port).',
      });
    }
    const origins = (options.origins ?? []).filter((o) => typeof o === 'string');
    const holder: Holder = { resources, origins, request: null, socket: null, sockets: new Set(), released: false };
    const plugin = this.servers.get(pluginId) ?? new Map<string, Listening>();
    // Port 0 asks for a fresh port each time: never taken over.
    const key = port === 0 ? `${host}:any#${this.nextAnyPort++}` : `${host}:${port}`;
    let l = plugin.get(key);
    if (!l) {
      l = await this.listen(pluginId, key, host, port);
      plugin.set(key, l);
      this.servers.set(pluginId, plugin);
    }
    const listening = l;
    listening.holders.push(holder);
    resources.onClose(() => this.release(pluginId, listening, holder));
    return {
      port: listening.port,
      host: listening.host,
      onRequest: (fn) => {
        holder.request = fn;
      },
      onWebSocket: (fn) => {
        holder.socket = fn;
      },
      close: () => this.release(pluginId, listening, holder),
    };
  }

  private async listen(pluginId: string, key: string, host: string, port: number): Promise<Listening> {
    let allow: SenderAllowList | null = null;
    if (!isLoopback(host)) {
      if (this.allow.length === 0) {
        throw new ChronusError(ErrorCode.HTTP_NOT_ALLOWED, `plugin ${pluginId}: ${host} listens beyond loopback, and osc.allow lists no sender`, {
          hint: 'List the machines allowed in osc.allow (IP addresses or CIDR subnets, the same list OSC uses), or listen on "127.0.0.1".',
        });
      }
      allow = SenderAllowList.from(this.allow);
    }
    // Loaded with the first server: a render or a start without one loads neither (with ws come https, tls and zlib).
    const [{ createServer }, { WebSocketServer }] = await Promise.all([import('node:http'), import('ws')]);
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
    const holders: Holder[] = [];
    server.maxConnections = MAX_CONNECTIONS;
    server.on('connection', (socket) => {
      if (allow && !allow.allows(socket.remoteAddress ?? '')) {
        trace('%s: connection from %s refused (not on osc.allow)', pluginId, socket.remoteAddress);
        socket.destroy();
      }
    });
    server.on('request', (req, res) => void this.answer(holders, req, res));
    server.on('upgrade', (req, socket, head) => this.upgrade(holders, wss, req, socket, head));
    server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine' : e.message;
      throw new ChronusError(ErrorCode.HTTP_LISTEN_FAILED, `plugin ${pluginId}: cannot listen on ${host}:${port}: ${why}`, {
        hint: `Choose another port in plugins.${pluginId}.port (0 picks a free one), or stop the program that holds it.`,
        cause: e,
      });
    });
    server.on('error', (e) => trace('%s: server error %s', pluginId, e.message));
    const address = server.address() as net.AddressInfo;
    trace('%s: listening on %s:%d', pluginId, host, address.port);
    return { key, server, wss, host, port: address.port, holders };
  }

  private async answer(holders: Holder[], req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) return plain(res, 403, 'Host not allowed: open this page by the address of the machine (127.0.0.1, localhost, its IP or name).');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return plain(res, 405, 'Only GET and HEAD are served.');
    }
    const holder = active(holders, 'request');
    if (!holder?.request) return plain(res, 503, 'Not ready.');
    const handler = holder.request;
    const request = requestOf(req);
    let answer: HttpResponse;
    try {
      const made = holder.resources.call(() => handler(request));
      answer = isThenable(made) ? await withTimeout(made as PromiseLike<HttpResponse>, REQUEST_MS) : made;
      if (typeof answer !== 'object' || answer === null) throw new Error('a request handler must return { status, headers, body }');
    } catch (error) {
      holder.resources.report(error);
      return plain(res, 500, 'The plugin failed to answer (see the engine log).');
    }
    const status = Number.isInteger(answer.status) && (answer.status as number) >= 100 && (answer.status as number) <= 599 ? (answer.status as number) : 200;
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body instanceof Uint8Array ? Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength) : Buffer.alloc(0);
    const headers: Record<string, string> = { 'x-content-type-options': 'nosniff' };
    for (const [k, v] of Object.entries(answer.headers ?? {})) if (typeof v === 'string' || typeof v === 'number') headers[k.toLowerCase()] = String(v);
    headers['content-length'] = String(body.byteLength);
    if (res.destroyed) return;
    try {
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      holder.resources.report(error);
      res.destroy();
    }
  }

  private upgrade(holders: Holder[], wss: WebSocketServer, req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const holder = active(holders, 'socket');
    if (!hostAllowed(req.headers.host)) return refuseUpgrade(socket, 403, 'Host not allowed');
    if (!holder?.socket) return refuseUpgrade(socket, 503, 'Not ready');
    if (!originAllowed(req.headers.origin, req.headers.host, holder.origins)) {
      trace('WebSocket from origin %s refused', req.headers.origin);
      return refuseUpgrade(socket, 403, 'Origin not allowed');
    }
    const accept = holder.socket;
    const request = requestOf(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (holder.released) return void ws.close(1012, 'service restart');
      holder.sockets.add(ws);
      holder.resources.run(() => accept(this.wrap(holder, ws, request), request));
    });
  }

  /** The plugin's side of one WebSocket: its callbacks run time-limited, their errors reported. */
  private wrap(holder: Holder, ws: WebSocket, request: HttpRequest): PluginWebSocket {
    const onMessage: ((data: string | Uint8Array) => void)[] = [];
    const onClose: (() => void)[] = [];
    ws.on('error', (e) => trace('WebSocket error %s', e.message));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const value = isBinary ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf.toString('utf8');
      for (const fn of onMessage) holder.resources.run(() => fn(value));
    });
    ws.on('close', () => {
      holder.sockets.delete(ws);
      for (const fn of onClose) holder.resources.run(fn);
    });
    return {
      url: request.url,
      remoteAddress: request.remoteAddress,
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      send: (data) => {
        if (ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_BUFFERED) return false;
        if (typeof data === 'string') ws.send(data);
        else if (data instanceof Uint8Array) ws.send(data, { binary: true });
        else return false;
        return true;
      },
      onMessage: (fn) => void onMessage.push(fn),
      onClose: (fn) => void onClose.push(fn),
      close: (code, reason) => ws.close(code, reason),
    };
  }

  /** A version lets go: its WebSockets close; the server closes when no version holds it. */
  private async release(pluginId: string, l: Listening, holder: Holder): Promise<void> {
    if (holder.released) return;
    holder.released = true;
    const i = l.holders.indexOf(holder);
    if (i >= 0) l.holders.splice(i, 1);
    const last = l.holders.length === 0;
    for (const ws of holder.sockets) ws.close(last ? 1001 : 1012, last ? 'going away' : 'service restart');
    if (!last) return;
    const plugin = this.servers.get(pluginId);
    plugin?.delete(l.key);
    if (plugin?.size === 0) this.servers.delete(pluginId);
    for (const ws of l.wss.clients) ws.terminate();
    l.wss.close();
    await new Promise<void>((resolve) => {
      l.server.close(() => resolve());
      l.server.closeAllConnections();
    });
    trace('%s: %s:%d closed', pluginId, l.host, l.port);
  }
}

/**
 * The OSCQuery server (control thread, in the web plugin's control half): answers HTTP GETs of the
 * namespace (oscquery.ts) and serves OSCQuery WebSocket clients:
 *
 * | client sends                          | server does                                                  |
 * | ------------------------------------- | ------------------------------------------------------------ |
 * | `{"COMMAND":"LISTEN","DATA":path}`    | streams the value of `path` as binary OSC on every change    |
 * | `{"COMMAND":"IGNORE","DATA":path}`    | stops that                                                   |
 * | text `/path` or `/path?ATTR`          | answers the node's JSON, as GET would (libossia's habit)     |
 * | binary OSC (message or bundle)        | sends it to the engine like a client (drive.ts: /mod, /gate, |
 * |                                       | /engine/record only); replies come back as binary OSC        |
 *
 * and tells every client `{"COMMAND":"PATH_ADDED","DATA":<node>}` / `{"COMMAND":"PATH_REMOVED",
 * "DATA":"<path>"}` when plugins come and go (the topmost nodes that changed: a new module's container
 * with its parameters inside).
 */
import type { ControlContext, HttpRequest, HttpResponse, PluginWebSocket } from 'plugin-sdk';
import { drive } from './drive.ts';
import { decodePacket, encodeMessage, type OscArg } from './osc-codec.ts';
import { addedPaths, answerQuery, buildNamespace, EXTENSIONS, withValues, type HostInfo, type Namespace, type SchemaDoc } from './oscquery.ts';

/** LISTENs one client may hold (a client that asks for more is ignored beyond it). */
const MAX_LISTENS = 4096;

function json(status: number, value: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

function hostnameOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d*$/, '');
}

export class OscQueryService {
  /** The namespace as last built, or null until it is asked for (built lazily: see pluginsChanged). */
  private built: Namespace | null = null;
  /** Connected OSCQuery clients and the paths each LISTENs to. */
  private readonly clients = new Map<PluginWebSocket, Set<string>>();

  constructor(
    private readonly ctx: ControlContext,
    private readonly name: string,
  ) {}

  private get ns(): Namespace {
    return (this.built ??= this.build());
  }

  private build(): Namespace {
    return buildNamespace(this.ctx.engine.schema() as SchemaDoc, this.ctx.engine.routes(), this.name);
  }

  hostInfo(hostHeader?: string): HostInfo {
    const osc = (this.ctx.engine.status().osc ?? {}) as { host?: string | null; port?: number | null };
    const info: HostInfo = { NAME: this.name, EXTENSIONS, OSC_TRANSPORT: 'UDP' };
    if (typeof osc.port === 'number') {
      // An engine listening on every interface is reached at the address the client used for this server.
      const wildcard = osc.host === '0.0.0.0' || osc.host === '::';
      info.OSC_IP = (wildcard ? hostnameOf(hostHeader) : osc.host) ?? '127.0.0.1';
      info.OSC_PORT = osc.port;
    }
    return info;
  }

  /** A GET of the namespace (`/`, `/mod/voice1`, `/mod/voice1/freq?VALUE`, `/?HOST_INFO`). */
  answer(request: HttpRequest): HttpResponse {
    const q = request.url.indexOf('?');
    const pathname = q < 0 ? request.url : request.url.slice(0, q);
    const query = q < 0 ? '' : request.url.slice(q + 1);
    const a = answerQuery(
      this.ns,
      pathname,
      query,
      () => this.ctx.engine.values(),
      () => this.hostInfo(request.headers.host),
    );
    if (a.status === 200) return json(200, a.json);
    return { status: a.status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: a.status === 204 ? '' : a.status === 404 ? 'No such node.' : 'Not an OSCQuery attribute.' };
  }

  add(socket: PluginWebSocket): void {
    // What the client is told appeared or vanished is measured from the namespace as it connected.
    this.built ??= this.build();
    const listening = new Set<string>();
    this.clients.set(socket, listening);
    socket.onClose(() => this.clients.delete(socket));
    socket.onMessage((data) => {
      if (typeof data !== 'string') return this.oscIn(socket, data);
      const text = data.trim();
      if (text.startsWith('/')) {
        const answer = this.answer({ method: 'GET', url: text, headers: {}, remoteAddress: socket.remoteAddress });
        if (answer.status === 200 && typeof answer.body === 'string') socket.send(answer.body);
        return;
      }
      let command: { COMMAND?: unknown; DATA?: unknown };
      try {
        command = JSON.parse(text) as typeof command;
      } catch {
        return;
      }
      if (typeof command?.DATA !== 'string') return;
      if (command.COMMAND === 'LISTEN' && this.ns.params.has(command.DATA) && listening.size < MAX_LISTENS) listening.add(command.DATA);
      else if (command.COMMAND === 'IGNORE') listening.delete(command.DATA);
    });
  }

  /** OSC from a WebSocket client: to the engine as a client's message; replies back as OSC. */
  private oscIn(socket: PluginWebSocket, data: Uint8Array): void {
    let messages;
    try {
      messages = decodePacket(data);
    } catch {
      return;
    }
    for (const m of messages) {
      void drive(this.ctx, m.address, m.args, (address, args) => {
        const plain = args.filter((a): a is OscArg => typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean');
        socket.send(encodeMessage(address, plain, plain.map((a) => (typeof a === 'number' && Number.isInteger(a) ? 'i' : 'f')).join('')));
      });
    }
  }

  /** A parameter's base value changed: streamed to the clients that LISTEN to it. */
  paramChanged(address: string, value: number): void {
    if (this.clients.size === 0) return;
    const node = this.ns.params.get(address);
    if (!node) return;
    let packet: Uint8Array | undefined;
    for (const [socket, listening] of this.clients) {
      if (!listening.has(address)) continue;
      packet ??= encodeMessage(address, [value], node.TYPE);
      socket.send(packet);
    }
  }

  /**
   * Plugins came or went: clients are told what appeared and what vanished. With none connected the
   * namespace is only built again when next asked for: a hot reload costs the control thread no
   * rebuild (≈ 3–7 ms, on the CPU the next reload's trial needs).
   */
  pluginsChanged(): void {
    if (this.clients.size === 0) {
      this.built = null;
      return;
    }
    const before = this.ns;
    this.built = this.build();
    const removed = addedPaths(this.ns, before);
    const added = addedPaths(before, this.ns);
    if (removed.length === 0 && added.length === 0) return;
    const values = this.ctx.engine.values();
    const messages = [
      ...removed.map((p) => JSON.stringify({ COMMAND: 'PATH_REMOVED', DATA: p })),
      ...added.map((p) => JSON.stringify({ COMMAND: 'PATH_ADDED', DATA: withValues(this.ns.nodes.get(p)!, values) })),
    ];
    for (const [socket, listening] of this.clients) {
      for (const path of listening) if (!this.ns.params.has(path)) listening.delete(path);
      for (const m of messages) socket.send(m);
    }
  }
}

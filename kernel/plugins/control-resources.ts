/**
 * What one version of a control half holds (control thread): timers, sockets, watches and anything
 * else to close when the version is replaced or unloaded. Every call into the plugin's code goes
 * through `run`, which time-limits its synchronous part in the plugin's realm (a loop is stopped with
 * PLUGIN_CONTROL_HUNG) and reports what it throws instead of letting it reach the event loop.
 */
import { createSocket } from 'node:dgram';
import vm from 'node:vm';
import type { PluginTimers, PluginUdpSocket } from '../../plugin-sdk/control.ts';
import { ChronusError, ErrorCode } from '../base/errors.ts';
import { encodeMessage, type OscSendArg } from '../osc/osc-transport.ts';
import { inPlugin } from './breadcrumb.ts';
import { isThenable } from '../base/is-thenable.ts';

/** Runs the function stored on the realm; compiled once, run in each plugin's realm. */
const CALL = new vm.Script('globalThis.__chronusCall()', { filename: 'chronus:control-call' });

/**
 * Calls `fn` with its synchronous part limited to `ms` in `realm`. A promise it returns is passed
 * through (what runs after an await is outside the limit).
 */
export function callInRealm<T>(realm: vm.Context, ms: number, pluginId: string, fn: () => T): T {
  const slot = realm as { __chronusCall?: () => T };
  const outer = slot.__chronusCall;
  slot.__chronusCall = fn;
  try {
    return inPlugin(pluginId, () => CALL.runInContext(realm, { timeout: ms }) as T);
  } catch (e) {
    if ((e as { code?: unknown })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new ChronusError(ErrorCode.PLUGIN_CONTROL_HUNG, `plugin ${pluginId}: a call into its control half ran for more than ${ms} ms and was stopped`, {
        hint: 'Look for a loop that never ends; work that takes long belongs in smaller steps (timers) or awaits.',
      });
    }
    throw e;
  } finally {
    slot.__chronusCall = outer;
  }
}

export class VersionResources {
  private readonly closers: (() => unknown)[] = [];
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextTimer = 1;
  closed = false;

  constructor(
    private readonly realm: vm.Context,
    private readonly callMs: number,
    readonly pluginId: string,
    /** Where errors from callbacks (timers, watches, sockets, servers) go. */
    readonly report: (error: unknown) => void,
  ) {}

  /** Calls into the plugin's code: time-limited, errors reported (and the promise's rejection too). */
  run(fn: () => unknown): void {
    if (this.closed) return;
    try {
      const r = callInRealm(this.realm, this.callMs, this.pluginId, fn);
      // A promise made in the plugin's realm is not this realm's Promise: test for a thenable.
      if (isThenable(r)) Promise.resolve(r).catch((e: unknown) => this.report(e));
    } catch (e) {
      this.report(e);
    }
  }

  /** Time-limited call whose result (or error) the caller wants. */
  call<T>(fn: () => T): T {
    return callInRealm(this.realm, this.callMs, this.pluginId, fn);
  }

  onClose(fn: () => unknown): void {
    if (this.closed) void Promise.resolve(fn()).catch(() => undefined);
    else this.closers.push(fn);
  }

  readonly timersApi: PluginTimers = {
    now: () => performance.now(),
    setTimeout: (fn, ms) => this.timer(fn, ms, false),
    setInterval: (fn, ms) => this.timer(fn, ms, true),
    clear: (id) => {
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
    },
  };

  private timer(fn: () => void, ms: number, repeat: boolean): number {
    if (this.closed) return 0;
    const id = this.nextTimer++;
    const delay = Math.max(1, Math.min(2 ** 31 - 1, Number.isFinite(ms) ? ms : 1));
    const t = (repeat ? setInterval : setTimeout)(() => {
      if (!repeat) this.timers.delete(id);
      this.run(fn);
    }, delay);
    t.unref();
    this.timers.set(id, t);
    return id;
  }

  async udp(port = 0, host = '127.0.0.1'): Promise<PluginUdpSocket> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (e) => this.report(e));
    socket.unref();
    const close = () => {
      try {
        socket.close();
      } catch {
        // Closed already.
      }
    };
    this.onClose(close);
    return {
      port: socket.address().port,
      send: (data, toPort, toHost) => socket.send(data, toPort, toHost, (e) => e && this.report(e)),
      sendOsc: (toPort, toHost, address, ...args) => {
        const packet = encodeMessage(address, args as OscSendArg[]);
        socket.send(packet, toPort, toHost, (e) => e && this.report(e));
      },
      onMessage: (fn) => {
        socket.on('message', (msg, from) => this.run(() => fn(new Uint8Array(msg), { address: from.address, port: from.port })));
      },
      close,
    };
  }

  /** Clears the timers and runs every closer (each failure ignored: the version is gone either way). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const fn of this.closers.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
  }
}

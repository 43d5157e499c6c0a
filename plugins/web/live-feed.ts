/**
 * The web page's live feed: one WebSocket per page (`/web/live`), JSON text frames.
 *
 * | server → page                                   | when                                           |
 * | ----------------------------------------------- | ---------------------------------------------- |
 * | `hello` schema, values, plugins, errors, recorder | on connect                                   |
 * | `frame` meters, master, spectrum, scope, params | every 1/frameHz s (changed values batched in)  |
 * | `plugins` schema, values, plugins               | a plugin loaded, reloaded, unloaded, faulted   |
 * | `error` plugin, message (file:line)             | an edit failed to load (at once)               |
 * | `recorder` state                                | after a record command, recording on or off    |
 * | `reply` id, address, args                       | the engine's replies to what the page sent     |
 *
 * The page sends `{ "t": "send", "id", "address", "args" }` (drive.ts: parameters, gates, recorder).
 * Nothing is computed while no page is connected.
 */
import { bandLevels, logBandEdges, SPECTRUM_SIZE, type ControlContext, type PluginChange, type PluginWebSocket } from 'plugin-sdk';
import { drive } from './drive.ts';

/** Spectrum bands sent to the page (log-spaced 20 Hz – 20 kHz). */
export const SPECTRUM_BANDS = 64;
/** Samples the scope shows (after a rising zero crossing), and how many points of them are sent. */
const SCOPE_SAMPLES = 1024;
const SCOPE_POINTS = 512;
/** How often the engine's status is read for new faults and the recording flag, in frames. */
const STATUS_EVERY = 10;

interface PluginInfo {
  id: string;
  name?: string;
  version?: string;
  role?: string;
  modules?: string[];
  description?: string;
  faults?: number;
  bypassed?: boolean;
  quarantined?: { reason: string; since: number } | null;
}

/** What the page is told about each plugin besides `/engine/plugins`: when it came, its last reload, its last failed edit. */
interface Book {
  loadedAt: number;
  reloadedAt?: number;
  error?: { message: string; at: number };
}

interface RecorderState {
  available: boolean;
  recording: boolean;
  message?: string;
  status?: unknown;
}

const round = (v: number, digits: number) => {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
};

export class LiveFeed {
  private readonly clients = new Set<PluginWebSocket>();
  private readonly pendingParams = new Map<string, number>();
  private readonly book = new Map<string, Book>();
  private plugins: PluginInfo[] = [];
  private recorder: RecorderState = { available: false, recording: false };
  private timer = 0;
  private frames = 0;
  /** What the last status read said (faults total, quarantined, recording), to see changes. */
  private lastStatusKey = '';
  private readonly output = new Float32Array(SPECTRUM_SIZE);
  private readonly mono = new Float64Array(SPECTRUM_SIZE);
  private readonly edges: number[];
  readonly bandCentres: number[];

  constructor(
    private readonly ctx: ControlContext,
    private frameHz: number,
  ) {
    this.edges = logBandEdges(SPECTRUM_BANDS, 20, Math.min(20000, ctx.sampleRate / 2));
    this.bandCentres = this.edges.slice(1).map((hi, i) => round(Math.sqrt(hi * this.edges[i]), 1));
    const started = Date.now() - Number(ctx.engine.status().uptimeSeconds ?? 0) * 1000;
    for (const id of (ctx.engine.status().plugins as string[] | undefined) ?? []) this.book.set(id, { loadedAt: started });
  }

  /** A page connected: it gets everything it needs to draw, then frames. */
  async add(socket: PluginWebSocket): Promise<void> {
    this.clients.add(socket);
    socket.onClose(() => {
      this.clients.delete(socket);
      if (this.clients.size === 0) this.stopFrames();
    });
    socket.onMessage((data) => this.fromPage(socket, data));
    if (this.clients.size === 1) {
      this.lastStatusKey = this.statusKey();
      await this.refreshPlugins();
      await this.refreshRecorder();
    }
    socket.send(JSON.stringify({ t: 'hello', ...this.snapshot(), errors: this.errors(), recorder: this.recorder, bands: this.bandCentres, sampleRate: this.ctx.sampleRate, frameHz: this.frameHz }));
    if (this.timer === 0) this.timer = this.ctx.timers.setInterval(() => this.frame(), 1000 / this.frameHz);
  }

  /** Frames per second from now on. */
  setFrameHz(hz: number): void {
    if (hz === this.frameHz) return;
    this.frameHz = hz;
    if (this.timer === 0) return;
    this.stopFrames();
    this.timer = this.ctx.timers.setInterval(() => this.frame(), 1000 / this.frameHz);
  }

  private stopFrames(): void {
    this.ctx.timers.clear(this.timer);
    this.timer = 0;
  }

  paramChanged(address: string, value: number): void {
    if (this.clients.size > 0) this.pendingParams.set(address, value);
  }

  /** A plugin came, went, was reloaded or failed to load: the page hears of it at once. */
  pluginChanged(change: PluginChange): void {
    const now = Date.now();
    const entry = this.book.get(change.id);
    if (change.kind === 'loaded') this.book.set(change.id, { loadedAt: now });
    else if (change.kind === 'reloaded') this.book.set(change.id, { loadedAt: entry?.loadedAt ?? now, reloadedAt: now });
    else if (change.kind === 'unloaded') this.book.delete(change.id);
    else if (change.kind === 'failed') {
      this.book.set(change.id, { ...(entry ?? { loadedAt: now }), error: { message: change.message ?? 'failed to load', at: now } });
      this.broadcast({ t: 'error', plugin: change.id, message: change.message ?? 'failed to load', at: now });
      return;
    }
    if (this.clients.size === 0) return;
    void this.refreshPlugins().then(async () => {
      // Whichever plugin answers /engine/record/* may have come or gone.
      await this.refreshRecorder();
      this.broadcast({ t: 'plugins', ...this.snapshot(), errors: this.errors(), recorder: this.recorder, change });
    });
  }

  private snapshot(): Record<string, unknown> {
    const schema = this.ctx.engine.schema() as { modules?: unknown };
    const plugins = this.plugins.map((p) => ({ ...p, ...this.book.get(p.id), error: undefined }));
    return { schema: { modules: schema.modules ?? {} }, values: this.ctx.engine.values(), plugins };
  }

  private errors(): { plugin: string; message: string; at: number }[] {
    const out: { plugin: string; message: string; at: number }[] = [];
    for (const [plugin, b] of this.book) if (b.error) out.push({ plugin, ...b.error });
    return out;
  }

  private async refreshPlugins(): Promise<void> {
    await this.ctx.engine.send('/engine/plugins', [], (address, args) => {
      if (address !== '/engine/plugins' || typeof args[0] !== 'string') return;
      try {
        this.plugins = JSON.parse(args[0]) as PluginInfo[];
      } catch {
        // Keep the last list.
      }
    });
  }

  private async refreshRecorder(): Promise<void> {
    const recording = this.ctx.engine.status().recording === true;
    await this.ctx.engine.send('/engine/record/status', [], (address, args) => {
      if (address === '/engine/record/status' && typeof args[0] === 'string') {
        let status: unknown = null;
        try {
          status = JSON.parse(args[0]);
        } catch {
          // Shown as available without details.
        }
        this.recorder = { available: true, recording, status };
      } else if (address === '/error') {
        this.recorder = { available: false, recording, message: String(args[2] ?? args[1] ?? 'the recorder is not available') };
      }
    });
  }

  private async fromPage(socket: PluginWebSocket, data: string | Uint8Array): Promise<void> {
    if (typeof data !== 'string' || data.length > 4096) return;
    let m: { t?: unknown; id?: unknown; address?: unknown; args?: unknown };
    try {
      m = JSON.parse(data) as typeof m;
    } catch {
      return;
    }
    if (m?.t !== 'send' || typeof m.address !== 'string') return;
    const args = Array.isArray(m.args) ? m.args : [];
    await drive(this.ctx, m.address, args, (address, replyArgs) => socket.send(JSON.stringify({ t: 'reply', id: m.id ?? null, address, args: replyArgs })));
    if (m.address.startsWith('/engine/record/')) {
      await this.refreshRecorder();
      this.broadcast({ t: 'recorder', recorder: this.recorder });
    }
  }

  private broadcast(message: unknown): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(message);
    for (const c of this.clients) c.send(text);
  }

  /** One frame: meters, spectrum, scope and the values that changed since the last. */
  private frame(): void {
    if (this.clients.size === 0) return;
    const { plugins, master } = this.ctx.engine.levels();
    const meters: Record<string, number> = {};
    for (const p of plugins) p.modules.forEach((m, i) => (meters[m] = round(p.peaks[i] ?? 0, 4)));
    this.ctx.engine.recentOutput(this.output);
    this.mono.set(this.output);
    const spectrum = bandLevels(this.mono, this.ctx.sampleRate, this.edges).map((rms) => round(20 * Math.log10(Math.max(rms, 1e-6)), 1));
    const message: Record<string, unknown> = { t: 'frame', meters, master: [round(master[0], 4), round(master[1], 4)], spectrum, scope: this.scope() };
    if (this.pendingParams.size > 0) {
      message.params = Object.fromEntries(this.pendingParams);
      this.pendingParams.clear();
    }
    this.broadcast(message);
    if (++this.frames % STATUS_EVERY === 0) this.watchStatus();
  }

  /** SCOPE_SAMPLES of the output from the latest rising zero crossing that leaves room for them (a steady picture of a periodic sound). */
  private scope(): number[] {
    const x = this.output;
    const last = x.length - SCOPE_SAMPLES;
    let start = last;
    for (let i = last; i > 0; i--) {
      if (x[i - 1] < 0 && x[i] >= 0) {
        start = i;
        break;
      }
    }
    const step = SCOPE_SAMPLES / SCOPE_POINTS;
    const out: number[] = [];
    for (let i = 0; i < SCOPE_POINTS; i++) out.push(round(x[start + i * step], 4));
    return out;
  }

  private statusKey(): string {
    const s = this.ctx.engine.status() as { pluginFaults?: number; recording?: boolean; watchdog?: { quarantined?: string[] } | null };
    return `${s.pluginFaults ?? 0}|${(s.watchdog?.quarantined ?? []).join(',')}|${s.recording === true}`;
  }

  /** New faults, a quarantine or a recording that started or ended: the page's lists are refreshed. */
  private watchStatus(): void {
    const key = this.statusKey();
    if (key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    void this.refreshPlugins().then(async () => {
      await this.refreshRecorder();
      this.broadcast({ t: 'plugins', ...this.snapshot(), errors: this.errors(), recorder: this.recorder });
    });
  }
}

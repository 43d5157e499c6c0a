/**
 * The engine as a control half sees it (`ctx.engine`, plugin-sdk/control.ts), built from narrow
 * sources (control thread). Messages a plugin sends go through the router like any client's, with a
 * local address whose replies are handed back instead of sent. Readers that would steal from each
 * other are fanned out here: the output tap is drained into one rolling window every reader copies
 * from, and each reader of the plugins' meters gets its own peaks since its last call.
 */
import type { EngineView, PluginChange, PluginLevels } from '../../plugin-sdk/control.ts';
import type { TapRing } from '../audio/tap-ring.ts';
import { LOCAL_ADDRESS, type EngineReplier } from '../osc/engine-replier.ts';
import { plainArgs } from '../osc/osc-args.ts';
import type { OscRouter } from '../osc/osc-router.ts';
import type { ParamControl } from '../params/param-control.ts';
import type { SchemaRegistry } from '../params/schema-registry.ts';
import type { LegacyReader } from '../../plugin-sdk/legacy.ts';
import { captureEngine, restoreEngine, type SnapshotSources } from './engine-snapshot.ts';
import { PACKAGE_VERSION } from '../package-root.ts';

/** Samples of output history kept for `recentOutput` (170 ms at 48 kHz). */
export const OUTPUT_WINDOW = 8192;

export interface EngineViewSources {
  readonly router: Pick<OscRouter, 'dispatch' | 'idle' | 'routes' | 'usage'>;
  readonly replier: Pick<EngineReplier, 'locals'>;
  readonly registry: Pick<SchemaRegistry, 'modules' | 'values' | 'paramAt'>;
  readonly control: Pick<ParamControl, 'listeners'>;
  readonly outputTap: Pick<TapRing, 'read'>;
  schema(): Record<string, unknown>;
  status(): Record<string, unknown>;
  /** The meters of every plugin that has them; the reader resets what it read. */
  meters(): { plugin: string; modules: readonly string[]; meters: Float32Array }[];
  masterPeaks(): readonly [number, number];
  /** What capture and restore read and set. */
  readonly snapshot: SnapshotSources;
  legacyReaders(): LegacyReader[];
}

/** What a view needs to clean up after itself: listeners go when the version that asked goes. */
export interface ViewOwner {
  onClose(fn: () => unknown): void;
  /** Runs a callback into the plugin (time-limited, errors reported). */
  run(fn: () => unknown): void;
}

export class EngineViews {
  private readonly window = new Float32Array(OUTPUT_WINDOW);
  private readonly chunk = [new Float32Array(OUTPUT_WINDOW), new Float32Array(OUTPUT_WINDOW)];
  /** Per reader, per plugin: peaks gathered since that reader's last call. */
  private readonly pending = new Map<object, Map<string, Float32Array>>();
  private readonly pluginListeners = new Set<(change: PluginChange) => void>();
  private nextPort = 1;

  constructor(private readonly sources: EngineViewSources) {}

  /** Tells every view's listener about a plugin change (called by the engine). */
  pluginChanged(change: PluginChange): void {
    for (const fn of this.pluginListeners) fn(change);
  }

  /** Moves what the output tap holds into the window (the status tick calls it too, so the tap never overflows unseen). */
  drainOutput(): void {
    const n = this.sources.outputTap.read(this.chunk);
    const keep = Math.min(n, OUTPUT_WINDOW);
    const w = this.window;
    w.copyWithin(0, keep);
    const [l, r] = this.chunk;
    for (let i = 0; i < keep; i++) w[OUTPUT_WINDOW - keep + i] = 0.5 * (l[n - keep + i] + r[n - keep + i]);
  }

  /** The view plugin `owner` gets. */
  viewFor(owner: ViewOwner): EngineView {
    const { sources } = this;
    const reader = {};
    this.pending.set(reader, new Map());
    owner.onClose(() => this.pending.delete(reader));
    return {
      schema: () => sources.schema(),
      status: () => sources.status(),
      routes: () => sources.router.routes().map((r) => ({ ...r, usage: sources.router.usage(r.address) ?? [] })),
      values: () => {
        const out: Record<string, number> = {};
        for (const m of sources.registry.modules.values()) {
          for (const p of m.params.values()) out[`/mod/${m.id}/${p.name}`] = sources.registry.values[p.index];
        }
        return out;
      },
      send: async (address, args = [], onReply) => {
        const port = this.nextPort++;
        // Replies as a client decodes them: typed integers ({ type: 'h', value }) as plain numbers.
        if (onReply) sources.replier.locals.set(port, (a, v) => owner.run(() => onReply(a, plainArgs(v))));
        try {
          sources.router.dispatch({ address, args, remote: { address: LOCAL_ADDRESS, port } });
          await sources.router.idle();
        } finally {
          sources.replier.locals.delete(port);
        }
      },
      levels: () => this.levels(reader),
      recentOutput: (out) => {
        this.drainOutput();
        const n = Math.min(out.length, OUTPUT_WINDOW);
        out.set(this.window.subarray(OUTPUT_WINDOW - n), out.length - n);
        out.fill(0, 0, out.length - n);
      },
      onParam: (fn) => {
        const listener = (index: number, value: number) => {
          const p = sources.registry.paramAt(index);
          if (p) owner.run(() => fn(`/mod/${p.module}/${p.name}`, value));
        };
        sources.control.listeners.add(listener);
        owner.onClose(() => sources.control.listeners.delete(listener));
      },
      capture: () => captureEngine(sources.snapshot),
      restore: (snapshot, options) => restoreEngine(sources.snapshot, snapshot, options),
      legacyReaders: () => sources.legacyReaders(),
      version: PACKAGE_VERSION,
      onPlugins: (fn) => {
        const listener = (change: PluginChange) => owner.run(() => fn(change));
        this.pluginListeners.add(listener);
        owner.onClose(() => this.pluginListeners.delete(listener));
      },
    };
  }

  /** Drains every plugin's meters into each reader's pending peaks, then hands `reader` its own and resets them. */
  private levels(reader: object): { plugins: PluginLevels[]; master: readonly [number, number] } {
    const metering = this.sources.meters();
    for (const { plugin, meters } of metering) {
      for (const peaks of this.pending.values()) {
        let p = peaks.get(plugin);
        if (!p || p.length !== meters.length) peaks.set(plugin, (p = new Float32Array(meters.length)));
        for (let i = 0; i < meters.length; i++) p[i] = Math.max(p[i], meters[i]);
      }
      meters.fill(0);
    }
    const mine = this.pending.get(reader) ?? new Map<string, Float32Array>();
    const plugins = metering.map(({ plugin, modules, meters }) => {
      const peaks = mine.get(plugin) ?? new Float32Array(meters.length);
      const levels = { plugin, modules: modules.length === peaks.length ? modules : [], peaks: [...peaks] };
      peaks.fill(0);
      return levels;
    });
    return { plugins, master: this.sources.masterPeaks() };
  }
}

/**
 * What the engine hands the modules it wires together (control thread): its routes (engine-routes.ts),
 * its services (status-reporter.ts; cli/render/render-score.ts). Each of them takes the slice it needs (`Pick<EngineServices, …>`), never the
 * `Engine` class, so no module that `engine.ts` imports imports it back (scripts/check-cycles.mjs).
 *
 * `Engine` implements this; what is mutable there (the transport) is read-only here.
 */
import type { Config } from '../base/config.ts';
import type { Logger } from '../base/logger.ts';
import type { PluginHost } from '../plugins/plugin-host.ts';
import type { EngineConsole } from '../status/engine-console.ts';
import type { StatusSources } from '../status/engine-status.ts';
import type { EventLog } from '../status/event-log.ts';
import type { Remote, RouteMessage } from '../osc/osc-router.ts';
import type { SchemaRegistry } from '../params/schema-registry.ts';
import type { EngineViews } from './engine-view.ts';

/** The loaded plugins as routes see them: what is loaded and what is kept out, not loading or unloading. */
export type PluginsView = Pick<PluginHost, 'loaded' | 'quarantined' | 'controlOnly' | 'controls' | 'all'>;

export interface EngineServices extends StatusSources {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: SchemaRegistry;
  readonly plugins: PluginsView;
  /** What the old engine printed on its console. */
  readonly console: EngineConsole;
  /** The last 100 events (engine_log.txt). */
  readonly events: EventLog;
  /** The engine as control halves see it; its output window is kept drained by the status tick. */
  readonly views: Pick<EngineViews, 'drainOutput'>;
  /** Run in order, awaited, by /engine/stop (e.g. control halves finish their files). */
  readonly onStop: readonly (() => Promise<void>)[];
  /** Close every gate (stop, panic). */
  releaseAllGates(): void;
  /** An engine-wide notice to every recent client. */
  broadcast(address: string, args: readonly unknown[]): void;
  /** A message into the router as if it had arrived over OSC (offline scores). */
  dispatch(msg: RouteMessage): void;
  /** Resolves when every message dispatched so far has been handled. */
  settle(): Promise<void>;
  /** Sees every reply the engine sends (offline renders and in-process tests have no socket). */
  onReply: ((remote: Remote, address: string, args: readonly unknown[]) => void) | null;
}

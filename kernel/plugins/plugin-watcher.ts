/**
 * Hot reload (control thread): chokidar watches plugins/ (and config/local.json). Each plugin folder
 * has its own debounce and its own queue: a burst of saves ends in one reload of the last version,
 * never two reloads of one plugin at once. A folder that gains a plugin.json is loaded; one that
 * loses it is unloaded. Changing `plugins.<id>.enabled` in config/local.json loads or unloads.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { loadConfig, type Config } from '../base/config.ts';
import type { PluginHost } from './plugin-host.ts';

export interface WatcherEvents {
  failed(folder: string, error: Error): void;
  configRejected(error: Error): void;
}

export class PluginWatcher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private watchers: FSWatcher[] = [];

  private constructor(
    private readonly host: PluginHost,
    private readonly root: string | null,
    private config: Config,
    private readonly events: WatcherEvents,
  ) {}

  /** Start watching; resolves once chokidar has scanned the folders (changes after that are seen). */
  static async start(host: PluginHost, config: Config, root: string | null, events: WatcherEvents): Promise<PluginWatcher> {
    const w = new PluginWatcher(host, root, config, events);
    const dir = config.paths.plugins;
    const plugins = watch(dir, {
      ignoreInitial: true,
      // Editors write in steps (truncate, then write; or write a temp file and rename): wait until a file is stable.
      awaitWriteFinish: { stabilityThreshold: 20, pollInterval: 5 },
      ignored: (p) => /(^|[/\\])(\.|node_modules)|~$|\.swp$/.test(path.relative(dir, p)),
    });
    plugins.on('all', (_event, file) => {
      const folder = path.relative(dir, file).split(path.sep)[0];
      if (folder && folder !== '..') w.schedule(path.join(dir, folder));
    });
    w.watchers.push(plugins);
    if (root) {
      const local = watch(path.join(root, 'config'), { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 20, pollInterval: 5 } });
      local.on('all', () => w.scheduleConfig());
      w.watchers.push(local);
    }
    await Promise.all(w.watchers.map((x) => new Promise<void>((resolve) => x.once('ready', () => resolve()))));
    return w;
  }

  /** Resolves when no reload is waiting or running. */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.running.size > 0) {
      await Promise.all([...this.running.values()]);
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, this.config.engine.reloadDebounceMs + 5));
    }
  }

  private schedule(key: string, run: () => Promise<void> = () => this.reload(key)): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.dirty.add(key);
        if (!this.running.has(key)) this.running.set(key, this.drain(key, run));
      }, this.config.engine.reloadDebounceMs),
    );
  }

  /** Run `key`'s job until no new change arrived while it ran. */
  private async drain(key: string, run: () => Promise<void>): Promise<void> {
    try {
      while (this.dirty.delete(key)) await run();
    } finally {
      this.running.delete(key);
    }
  }

  private async reload(folder: string): Promise<void> {
    const loaded = this.host.inFolder(folder);
    try {
      if (!existsSync(path.join(folder, 'plugin.json'))) {
        if (loaded) await this.host.unload(loaded.manifest.id);
        this.host.forget(folder);
        return;
      }
      await this.host.load(folder);
    } catch (error) {
      this.events.failed(folder, error as Error);
    }
  }

  private scheduleConfig(): void {
    this.schedule('(config)', async () => {
      if (!this.root) return;
      let next: Config;
      try {
        next = loadConfig({ root: this.root });
      } catch (error) {
        this.events.configRejected(error as Error);
        return;
      }
      const before = this.config.plugins;
      this.config = next;
      this.host.setPluginConfig(next.plugins);
      const ids = new Set([...Object.keys(before), ...Object.keys(next.plugins)]);
      for (const id of ids) {
        if (before[id]?.enabled === next.plugins[id]?.enabled) continue;
        const folder = this.host.folderOf(id);
        if (folder) this.schedule(folder);
      }
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.watchers.map((w) => w.close()));
    await Promise.all([...this.running.values()]);
  }
}

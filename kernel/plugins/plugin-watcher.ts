/**
 * Hot reload (control thread): chokidar watches plugins/ (and config/local.json). Each plugin folder
 * has its own queue: a save reloads once written, a save during that reload reloads once more after it
 * (a burst ends with the last version), never two reloads of one plugin at once; config changes are
 * debounced. A folder that gains a plugin.json is loaded; one that
 * loses it is unloaded. Changing `plugins.<id>.enabled` in config/local.json loads or unloads.
 * Only code reloads a plugin (`reloadsCode`): plugin.json, the files its bundles read and source
 * files. Data in the folder (a sampler's WAV files) is the control half's to watch and reload.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { loadConfig, type Config } from '../base/config.ts';
import type { PluginHost } from './plugin-host.ts';

export interface WatcherEvents {
  failed(folder: string, error: Error): void;
  configRejected(error: Error): void;
}

/**
 * A change is loaded at once: chokidar's write-finish wait is kept only for its 1 ms poll (without it
 * chokidar drops a second change of a file within 50 ms), not to wait for the file to settle. Whether
 * the save was whole is asked at the end instead (`unchanged`): a version goes live only if none of its
 * files changed while it was bundled, evaluated and tried — a settle time as long as the load itself.
 */
const POLL_MS = 1;

/** Files the bundler may read (esbuild's loaders for code): a new one may be about to be imported. */
const SOURCE_FILE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/**
 * Whether a change to `file` in the plugin folder `folder` is a change of the plugin's code: its
 * plugin.json, a file one of its bundles read, a source file, or the folder itself (added, removed).
 * Anything else (samples, tables, a control half's data) is not, once the plugin is loaded; a folder
 * whose plugin is not loaded reloads on any file (it may be arriving, or its last load failed).
 */
export function reloadsCode(event: string, file: string, folder: string, host: Pick<PluginHost, 'loaded'>): boolean {
  if (file === folder || path.basename(file) === 'plugin.json') return true;
  if (event === 'addDir' || event === 'unlinkDir') return false;
  const loaded = [...host.loaded.values()].find((p) => p.folder === folder);
  if (!loaded) return true;
  return SOURCE_FILE.test(file) || loaded.inputs.includes(path.resolve(file));
}

/** Size, modification time and inode of each file: any write or replacement changes it. */
function stampOf(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f, { bigint: true });
        return `${s.size}:${s.mtimeNs}:${s.ino}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

export class PluginWatcher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  /** When each key last changed (performance.now()). */
  private readonly changedAt = new Map<string, number>();
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
    // A save is loaded at once (save-to-audible is what a player feels). Editors write in steps
    // (truncate, then write): a step caught half way fails to load, or is abandoned before it goes live
    // when the next step arrives during its load (`reload`); a failure is reported only if nothing
    // follows it within the debounce; a change during a reload loads again after it.
    const plugins = watch(dir, {
      ignoreInitial: true,
      awaitWriteFinish: { stabilityThreshold: 0, pollInterval: POLL_MS },
      ignored: (p) => /(^|[/\\])(\.|node_modules)|~$|\.swp$/.test(path.relative(dir, p)),
    });
    plugins.on('all', (event, file) => {
      const folder = path.relative(dir, file).split(path.sep)[0];
      if (!folder || folder === '..') return;
      const full = path.join(dir, folder);
      if (reloadsCode(event, file, full, w.host)) w.now(full);
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

  /** Debounced: `run` once changes to `key` have paused for reloadDebounceMs. */
  private schedule(key: string, run: () => Promise<void> = () => this.reload(key)): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.now(key, run);
      }, this.config.engine.reloadDebounceMs),
    );
  }

  /** `run` for `key` now, or right after the run under way (one at a time per key, the last change last). */
  private now(key: string, run: () => Promise<void> = () => this.reload(key)): void {
    this.changedAt.set(key, performance.now());
    this.dirty.add(key);
    if (!this.running.has(key)) this.running.set(key, this.drain(key, run));
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
    const began = performance.now();
    const files = [path.join(folder, 'plugin.json'), ...(loaded?.inputs ?? [])];
    const stamp = stampOf(files);
    const changedSince = () => (this.changedAt.get(folder) ?? 0) > began;
    // Its files as they were when this load began, and no change seen since (an event on its way is
    // caught by the stamp: a write in the last millisecond has not been reported yet).
    const current = (): boolean => {
      if (changedSince()) return false;
      if (stampOf(files) === stamp) return true;
      this.now(folder);
      return false;
    };
    try {
      if (!existsSync(path.join(folder, 'plugin.json'))) {
        if (loaded) await this.host.unload(loaded.manifest.id);
        this.host.forget(folder);
        return;
      }
      await this.host.load(folder, { current });
    } catch (error) {
      // Loaded at once, a save may have been caught half written (a truncated file): a failure is
      // reported only if no change follows within the debounce, else the next load has the last word
      // (at once when the change came already).
      if (changedSince()) return;
      await new Promise((r) => setTimeout(r, this.config.engine.reloadDebounceMs));
      if (changedSince()) return;
      // A write whose event never came (chokidar drops a file's change within 5 ms of its last, as an
      // editor's truncate-then-write): what is there now loads, and has the last word.
      if (stampOf(files) !== stamp) return this.now(folder);
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

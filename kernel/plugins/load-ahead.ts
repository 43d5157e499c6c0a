/**
 * A start's plugin loads, prepared ahead (control thread). `loadAll` loads the plugins one after
 * another, each waiting for the audio thread to take it, and the audio thread is itself still
 * starting when the first is ready. Meanwhile every plugin's manifest and bundles are read and both
 * halves' top levels evaluated, in the same order, so each load finds its part done and goes
 * straight to the audio thread. What is prepared is taken once, by the load of its folder; a failure
 * here is left for that load to meet again and report. Nothing here changes what loads or in which
 * order: slots, parameters and what they render stay the same.
 */
import type { BundleResult } from './plugin-bundler.ts';
import type { Manifest } from './manifest.ts';
import type { PluginDefinition } from '../../plugin-sdk/types.ts';

export interface Prepared<Control> {
  readonly manifest: Manifest;
  /** The audio half's bundle and definition (null: none, or the plugin is not loaded). */
  readonly bundle: BundleResult | null;
  readonly definition: PluginDefinition | null;
  readonly control: Control | null;
}

export class LoadAhead<Control> {
  private readonly ready = new Map<string, Promise<Prepared<Control> | null>>();

  /** Prepares `folders` one after another, in this order. */
  start(folders: readonly string[], prepare: (folder: string) => Promise<Prepared<Control>>): void {
    let chain: Promise<unknown> = Promise.resolve();
    for (const folder of folders) {
      const prepared = chain.then(() => prepare(folder)).catch(() => null);
      this.ready.set(folder, prepared);
      chain = prepared;
    }
  }

  /** What was prepared for `folder` (waiting for it), once; null when nothing was. */
  take(folder: string): Promise<Prepared<Control> | null> {
    const prepared = this.ready.get(folder) ?? Promise.resolve(null);
    this.ready.delete(folder);
    return prepared;
  }

  /** What no load took goes. */
  clear(): void {
    this.ready.clear();
  }
}

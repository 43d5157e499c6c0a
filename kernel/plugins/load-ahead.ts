/**
 * A start's plugin loads, prepared ahead (control thread). `loadAll` loads the plugins one after
 * another, each waiting for the audio thread to take it, and the audio thread is itself still
 * starting when the first is ready. Meanwhile every plugin's manifest and bundles are read and both
 * halves' top levels evaluated, in the same order, so each load finds its part done and goes
 * straight to the audio thread. What is prepared is taken once, by the load of its folder. A
 * manifest or bundle that fails here is left for the load to meet again; an evaluation that fails (a
 * top level that throws, or hangs until its trial thread is given up on) is handed to the load as
 * it failed, so it is not tried twice. Nothing here changes what loads or in which order: slots,
 * parameters and what they render stay the same.
 */
import type { BundleResult } from './plugin-bundler.ts';
import type { Manifest } from './manifest.ts';
import type { PluginDefinition } from '../../plugin-sdk/types.ts';

/** A step's result, or what it threw. */
export type Outcome<T> = { readonly value: T } | { readonly error: unknown };

export async function outcomeOf<T>(step: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await step() };
  } catch (error) {
    return { error };
  }
}

/** The step's result, or its failure thrown where the load would have taken the step itself. */
export function valueOf<T>(outcome: Outcome<T>): T {
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

export interface Prepared<Control> {
  readonly manifest: Manifest;
  /** The audio half's bundle and evaluation (null: none, or the plugin is not loaded). */
  readonly bundle: BundleResult | null;
  readonly definition: Outcome<PluginDefinition> | null;
  readonly control: Outcome<Control> | null;
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

/**
 * Stand-in routes for plugins that are present but not running (control thread). A manifest may
 * declare the OSC addresses its plugin adds (`"routes"`). While the plugin is disabled, or enabled but
 * failed to load, each of those addresses is mapped to a stand-in that answers
 * `/error <address> <ID>_DISABLED|<ID>_NOT_LOADED <how to turn it on>` and is listed by
 * /engine/routes and /engine/schema — a client of a plugin that is off learns how to turn it on
 * instead of getting OSC_UNKNOWN_ADDRESS. The plugin's own routes replace them when it loads; they go
 * with its folder.
 */
import { z } from 'zod';
import { RouteError, type OscRouter } from '../osc/osc-router.ts';
import type { Manifest } from './manifest.ts';

/** Why a plugin with declared routes is not answering them. */
export type Absence = 'disabled' | 'not-loaded';

/** `sampler` → `SAMPLER_DISABLED`, `my-fx` → `MY_FX_NOT_LOADED`. */
function codeFor(id: string, why: Absence): string {
  return `${id.toUpperCase().replace(/-/g, '_')}_${why === 'disabled' ? 'DISABLED' : 'NOT_LOADED'}`;
}

function messageFor(id: string, why: Absence, detail?: string): string {
  if (why === 'disabled') {
    return `the ${id} plugin is disabled: add { "plugins": { "${id}": { "enabled": true } } } to config/local.json (a running engine picks it up; one started with engine.watch false needs a restart)`;
  }
  return `the ${id} plugin is enabled but not loaded (${detail ?? 'see the engine log for its load error'})`;
}

export class AbsentRoutes {
  /** Stand-ins mapped, by plugin id: the folder they belong to and their addresses. */
  private readonly standing = new Map<string, { folder: string; addresses: string[] }>();

  constructor(private readonly router: Pick<OscRouter, 'mapRoute' | 'unmapRoute' | 'hasRoute'>) {}

  /** Plugin `manifest.id` (in `folder`) is not running, for `why` (`detail`: why it did not load): its declared routes answer so. */
  stand(manifest: Manifest, folder: string, why: Absence, detail?: string): void {
    this.clear(manifest.id);
    const { id } = manifest;
    const code = codeFor(id, why);
    const message = messageFor(id, why, detail);
    const addresses = (manifest.routes ?? []).filter((a) => !this.router.hasRoute(a));
    for (const address of addresses) {
      this.router.mapRoute(
        address,
        () => {
          throw new RouteError(code, message);
        },
        { args: z.array(z.unknown()), description: `(plugin ${id} is ${why === 'disabled' ? 'disabled' : 'not loaded'}: ${message})` },
      );
    }
    this.standing.set(id, { folder, addresses });
  }

  /** Plugin `id` is running (its own routes come) or gone: its stand-ins are removed. */
  clear(id: string): void {
    for (const address of this.standing.get(id)?.addresses ?? []) this.router.unmapRoute(address);
    this.standing.delete(id);
  }

  /** The folder is gone: the stand-ins of the plugin that was in it go too. */
  forgetFolder(folder: string): void {
    for (const [id, s] of this.standing) if (s.folder === folder) this.clear(id);
  }

  /** Another plugin takes `addresses`: stand-ins holding any of them step aside. */
  release(addresses: readonly string[]): void {
    for (const [id, s] of this.standing) if (s.addresses.some((a) => addresses.includes(a))) this.clear(id);
  }
}

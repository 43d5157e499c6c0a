/**
 * The router aliases a plugin brings (control thread), so the kernel names no old address itself:
 * - the manifest's `aliases`: a module alias (`"sine1": "voice1"`) gives `/mod/sine1/` → `/mod/voice1/`
 *   and `/gate/sine1` → `/gate/voice1`; an address alias (`"/gate/1": "/gate/voice1"`,
 *   `"/mod/filter1/": "/mod/voice1/filter/"`) is itself;
 * - `gateFollows`: a module that follows another's gates has no gate route of its own, and its gate
 *   address reaches the module it follows (`/gate/acid1` → `/gate/voice2`, as the old engine had it).
 * Mapped with the plugin's routes, dropped when it unloads or a new version no longer has them.
 */
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import type { Manifest } from './manifest.ts';

export function routerAliases(manifest: Pick<Manifest, 'aliases'>, definition: Pick<PluginDefinition, 'gateFollows'>): [from: string, to: string][] {
  const out: [string, string][] = [];
  for (const [alias, target] of Object.entries(manifest.aliases ?? {})) {
    if (alias.startsWith('/')) out.push([alias, target]);
    else out.push([`/mod/${alias}/`, `/mod/${target}/`], [`/gate/${alias}`, `/gate/${target}`]);
  }
  for (const [follower, leader] of Object.entries(definition.gateFollows ?? {})) out.push([`/gate/${follower}`, `/gate/${leader}`]);
  return out;
}

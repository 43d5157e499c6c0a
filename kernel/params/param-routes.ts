/**
 * Routes generated from the schema: `/mod/<module>/<param...>` for every parameter and
 * `/gate/<module>` for every gated module. No per-parameter handler is written by hand.
 */
import { z } from 'zod';
import type { OscRouter } from '../osc/osc-router.ts';
import type { ParamControl } from './param-control.ts';
import type { ModuleEntry } from './schema-registry.ts';

const oneNumber = z.tuple([z.number({ error: 'expected a number' })]);
const gateValue = z.tuple([z.union([z.number(), z.boolean().transform((b) => (b ? 1 : 0))], { error: 'expected 0 or 1' })]);

export function moduleAddresses(m: ModuleEntry): string[] {
  const addresses = [...m.params.keys()].map((name) => `/mod/${m.id}/${name}`);
  if (m.gate !== undefined) addresses.push(`/gate/${m.id}`);
  return addresses;
}

export function mapModuleRoutes(router: OscRouter, control: ParamControl, m: ModuleEntry): void {
  for (const p of m.params.values()) {
    const address = `/mod/${m.id}/${p.name}`;
    if (router.has(address)) continue;
    const unit = p.spec.unit ? ` ${p.spec.unit}` : '';
    router.mapRoute(address, ([value], ctx) => void control.set(p.index, value, ctx.frame), {
      args: oneNumber,
      description: `${p.spec.description ?? p.name}: ${p.spec.min}–${p.spec.max}${unit} (default ${p.spec.default})`,
      strictArity: true,
    });
  }
  const gate = m.gate;
  if (gate !== undefined && !router.has(`/gate/${m.id}`)) {
    router.mapRoute(`/gate/${m.id}`, ([value], ctx) => control.gate(gate, value, ctx.frame), {
      args: gateValue,
      description: `gate ${m.id}: >0 starts the envelope, 0 releases it`,
      strictArity: true,
    });
  }
}

export function unmapModuleRoutes(router: OscRouter, m: ModuleEntry, keep: ReadonlySet<string> = new Set()): void {
  for (const address of moduleAddresses(m)) if (!keep.has(address)) router.unmapRoute(address);
}

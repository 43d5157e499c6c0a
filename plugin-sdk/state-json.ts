/**
 * Is a plugin's state plain, bounded JSON? What a 'save' state (`getState('save')`) must be: it is
 * written to pattern slots and session journals and read back by another version of the plugin.
 */
import { preview } from './zod-issues.ts';

export const JSON_LIMITS = { depth: 16, nodes: 200_000, stringLength: 65_536, arrayLength: 100_000, objectKeys: 4096, magnitude: 1e15 } as const;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first problem in a plugin state, as [path, reason], or undefined when it is plain, bounded JSON. */
export function checkJson(value: unknown): [PropertyKey[], string] | undefined {
  let nodes = 0;
  const at: PropertyKey[] = [];
  const fail = (reason: string): [PropertyKey[], string] => [[...at], reason];
  const visit = (v: unknown): [PropertyKey[], string] | undefined => {
    if (++nodes > JSON_LIMITS.nodes) return fail(`has more than ${JSON_LIMITS.nodes} values`);
    if (v === null || typeof v === 'boolean') return undefined;
    if (typeof v === 'number') {
      return Number.isFinite(v) && Math.abs(v) <= JSON_LIMITS.magnitude ? undefined : fail(`must be a finite number within ±${JSON_LIMITS.magnitude} (found ${preview(v)})`);
    }
    if (typeof v === 'string') return v.length > JSON_LIMITS.stringLength ? fail(`must have <= ${JSON_LIMITS.stringLength} characters`) : undefined;
    if (at.length >= JSON_LIMITS.depth) return fail(`is nested deeper than ${JSON_LIMITS.depth} levels`);
    if (Array.isArray(v)) {
      if (v.length > JSON_LIMITS.arrayLength) return fail(`must have <= ${JSON_LIMITS.arrayLength} items`);
      for (let i = 0; i < v.length; i++) {
        at.push(i);
        const p = visit(v[i]);
        at.pop();
        if (p) return p;
      }
      return undefined;
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length > JSON_LIMITS.objectKeys) return fail(`must have <= ${JSON_LIMITS.objectKeys} keys`);
      for (const k of keys) {
        at.push(k);
        const p = FORBIDDEN_KEYS.has(k) ? fail('is a forbidden key') : visit((v as Record<string, unknown>)[k]);
        at.pop();
        if (p) return p;
      }
      return undefined;
    }
    return fail(`must be JSON (found ${typeof v})`);
  };
  return visit(value);
}

/**
 * The engine's OSC address space as an OSCQuery namespace (the Vidvox OSCQuery proposal): pure
 * functions from what `ctx.engine` tells (schema, routes, values) to the JSON the proposal describes.
 *
 * | node                  | TYPE | ACCESS        | also                                                     |
 * | --------------------- | ---- | ------------- | -------------------------------------------------------- |
 * | `/mod/<module>/<p…>`  | f, i | 3 read/write  | VALUE, RANGE (VALS for enums), CLIPMODE both, UNIT       |
 * | `/gate/<module>`      | i    | 2 write only  | RANGE 0–1 (VALS 0, 1)                                    |
 * | other routes          | —    | 0 no value    | DESCRIPTION with the arguments (`/engine/record/start`)  |
 * | containers            | —    | 0             | CONTENTS                                                 |
 *
 * Aliases (`/mod/sine1/*`, `/gate/1`) are not nodes: they are other names of nodes listed.
 */

/** An OSCQuery node as JSON (the proposal's attribute names). */
export interface OscNode {
  FULL_PATH: string;
  DESCRIPTION?: string;
  ACCESS: 0 | 1 | 2 | 3;
  TYPE?: string;
  VALUE?: number[];
  RANGE?: { MIN?: number; MAX?: number; VALS?: number[] }[];
  CLIPMODE?: ('none' | 'low' | 'high' | 'both')[];
  UNIT?: string[];
  CONTENTS?: Record<string, OscNode>;
}

/** Every attribute the proposal names (a query for another answers 400). */
export const ATTRIBUTES = [
  'FULL_PATH',
  'CONTENTS',
  'TYPE',
  'ACCESS',
  'VALUE',
  'RANGE',
  'DESCRIPTION',
  'TAGS',
  'EXTENDED_TYPE',
  'UNIT',
  'CRITICAL',
  'CLIPMODE',
  'OVERLOADS',
  'HTML',
] as const;

/** What this server supports, for HOST_INFO's EXTENSIONS. */
export const EXTENSIONS = {
  ACCESS: true,
  VALUE: true,
  RANGE: true,
  DESCRIPTION: true,
  TAGS: false,
  EXTENDED_TYPE: false,
  UNIT: true,
  CRITICAL: false,
  CLIPMODE: true,
  LISTEN: true,
  PATH_CHANGED: false,
  PATH_RENAMED: false,
  PATH_ADDED: true,
  PATH_REMOVED: true,
} as const;

/** Chronus units → the proposal's unit names (units.md); others are left out. */
const UNITS: Readonly<Record<string, string>> = {
  hz: 'time.hz',
  s: 'time.second',
  sec: 'time.second',
  seconds: 'time.second',
  ms: 'time.ms',
  db: 'gain.db',
  bpm: 'time.bpm',
  cents: 'time.cents',
};

export function unitOf(unit: string | undefined): string | undefined {
  return unit === undefined ? undefined : UNITS[unit.toLowerCase()];
}

/** A parameter as `/engine/schema` lists it. */
export interface SchemaParam {
  type?: 'float' | 'int' | 'enum';
  min: number;
  max: number;
  default: number;
  unit?: string;
  values?: readonly string[];
  description?: string;
}

/** The parts of `/engine/schema` the namespace is made from. */
export interface SchemaDoc {
  modules?: Record<string, { name?: string; notes?: string; plugin?: string; instances?: string[]; params?: Record<string, SchemaParam> }>;
}

export interface RouteInfo {
  address: string;
  description: string;
  usage: readonly string[];
}

/** The namespace without values (those are read when a request comes): rebuilt when plugins change. */
export interface Namespace {
  root: OscNode;
  /** Every node by full path. */
  nodes: Map<string, OscNode>;
  /** Parameter nodes by address (their VALUE filled in on demand). */
  params: Map<string, OscNode>;
}

function describe(p: SchemaParam): string {
  const parts = [p.description ?? ''];
  if (p.type === 'enum' && p.values) parts.push(`(${p.values.map((v, i) => `${i} ${v}`).join(' · ')})`);
  if (p.unit) parts.push(`[${p.unit}]`);
  return parts.filter(Boolean).join(' ');
}

function paramNode(path: string, p: SchemaParam): OscNode {
  const int = p.type === 'int' || p.type === 'enum';
  const range: { MIN?: number; MAX?: number; VALS?: number[] } = { MIN: p.min, MAX: p.max };
  if (p.type === 'enum' && p.values) range.VALS = p.values.map((_, i) => i);
  const node: OscNode = { FULL_PATH: path, DESCRIPTION: describe(p), ACCESS: 3, TYPE: int ? 'i' : 'f', VALUE: [p.default], RANGE: [range], CLIPMODE: ['both'] };
  const unit = unitOf(p.unit);
  if (unit) node.UNIT = [unit];
  return node;
}

/** The node at `path`, containers made on the way. */
function ensure(ns: Namespace, path: string): OscNode {
  const found = ns.nodes.get(path);
  if (found) return found;
  const cut = path.lastIndexOf('/');
  const parent = ensure(ns, cut <= 0 ? '/' : path.slice(0, cut));
  const node: OscNode = { FULL_PATH: path, ACCESS: 0 };
  (parent.CONTENTS ??= {})[path.slice(cut + 1)] = node;
  ns.nodes.set(path, node);
  return node;
}

/** Attach `node` at its FULL_PATH (replacing a container made for it, keeping that container's contents). */
function place(ns: Namespace, node: OscNode): void {
  const at = ensure(ns, node.FULL_PATH);
  Object.assign(at, node, at.CONTENTS ? { CONTENTS: at.CONTENTS } : {});
}

const ADDRESS = /^\/[A-Za-z0-9_./-]*[A-Za-z0-9_]$/;

export function buildNamespace(schema: SchemaDoc, routes: readonly RouteInfo[], name = 'Chronus'): Namespace {
  const root: OscNode = { FULL_PATH: '/', DESCRIPTION: name, ACCESS: 0, CONTENTS: {} };
  const ns: Namespace = { root, nodes: new Map([['/', root]]), params: new Map() };
  for (const group of Object.values(schema.modules ?? {})) {
    const params = Object.entries(group.params ?? {});
    if (params.length === 0) continue;
    for (const id of group.instances ?? []) {
      const module = ensure(ns, `/mod/${id}`);
      module.DESCRIPTION = group.name ?? group.plugin ?? id;
      for (const [pname, p] of params) {
        const node = paramNode(`/mod/${id}/${pname}`, p);
        place(ns, node);
        ns.params.set(node.FULL_PATH, ns.nodes.get(node.FULL_PATH) as OscNode);
      }
    }
  }
  ensure(ns, '/mod').DESCRIPTION = 'parameters: /mod/<module>/<param> <value>';
  for (const r of routes) {
    if (!ADDRESS.test(r.address) || r.description.startsWith('alias of') || ns.params.has(r.address)) continue;
    if (r.address.startsWith('/mod/')) continue; // a parameter the schema does not list (retired): not offered
    if (r.address.startsWith('/gate/')) {
      place(ns, { FULL_PATH: r.address, DESCRIPTION: r.description || 'gate: 1 starts the envelope, 0 releases it', ACCESS: 2, TYPE: 'i', RANGE: [{ MIN: 0, MAX: 1, VALS: [0, 1] }], CLIPMODE: ['none'] });
      continue;
    }
    const args = r.usage.length > 0 ? ` (arguments: ${r.usage.join(' ')})` : '';
    place(ns, { FULL_PATH: r.address, DESCRIPTION: `${r.description}${args}`, ACCESS: 0 });
  }
  if (ns.nodes.has('/gate')) ensure(ns, '/gate').DESCRIPTION = 'gates: /gate/<module> 1 (on) or 0 (off)';
  return ns;
}

/** A node as JSON with current values filled in (a deep copy: the namespace is never handed out). */
export function withValues(node: OscNode, values: Readonly<Record<string, number>>): OscNode {
  const out: OscNode = { ...node };
  if (node.VALUE !== undefined) {
    const v = values[node.FULL_PATH];
    out.VALUE = [v === undefined ? node.VALUE[0] : node.TYPE === 'i' ? Math.round(v) : v];
  }
  if (node.CONTENTS) {
    out.CONTENTS = {};
    for (const [k, child] of Object.entries(node.CONTENTS)) out.CONTENTS[k] = withValues(child, values);
  }
  return out;
}

/** The topmost paths of `after` that `before` lacks (a new module: its container, not each parameter). */
export function addedPaths(before: Namespace, after: Namespace): string[] {
  const added = [...after.nodes.keys()].filter((p) => !before.nodes.has(p));
  const set = new Set(added);
  return added.filter((p) => !set.has(parentOf(p)));
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

export interface QueryAnswer {
  status: 200 | 204 | 400 | 404;
  json?: unknown;
}

export interface HostInfo {
  NAME: string;
  EXTENSIONS: typeof EXTENSIONS;
  OSC_IP?: string;
  OSC_PORT?: number;
  OSC_TRANSPORT: 'UDP';
}

/**
 * Answers a GET of `pathname` with `query` (the part after `?`, or ''): the node with its contents,
 * one attribute (`?VALUE` → `{ "VALUE": [440] }`; 204 when the node has none), or `?HOST_INFO`.
 */
export function answerQuery(ns: Namespace, pathname: string, query: string, values: () => Readonly<Record<string, number>>, hostInfo: () => HostInfo): QueryAnswer {
  const attribute = query.split('&')[0].split('=')[0];
  if (attribute === 'HOST_INFO') return { status: 200, json: hostInfo() };
  if (attribute !== '' && !(ATTRIBUTES as readonly string[]).includes(attribute)) return { status: 400 };
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return { status: 400 };
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const node = ns.nodes.get(path);
  if (!node) return { status: 404 };
  const full = withValues(node, attribute === 'VALUE' || attribute === '' || attribute === 'CONTENTS' ? values() : {});
  if (attribute === '') return { status: 200, json: full };
  const value = (full as unknown as Record<string, unknown>)[attribute];
  return value === undefined ? { status: 204 } : { status: 200, json: { [attribute]: value } };
}

#!/usr/bin/env node
// Import circles: none allowed. Reads every .ts / .mts / .mjs file below the folders given (default:
// kernel), takes its relative imports — `import … from './x.ts'`, `import type …`, `export … from`,
// `import './x.ts'` and `import('./x.ts')`, type-only ones included — and finds the strongly connected
// components of that graph (Tarjan). Each component of more than one file (or a file importing itself)
// is a circle; it is reported as one path through it, e.g. `a.ts → b.ts → a.ts`.
//
//   node scripts/check-cycles.mjs [--ignore <path prefix>] [folder …]
//   exit 0: no circle; exit 1: one line per circle (and the files it runs through)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(ts|mts|mjs)$/;
/** Static imports and re-exports (any clause, across lines), side-effect imports, dynamic imports. */
const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function listSources(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') listSources(full, out);
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Comments out (an import in a comment or a doc example is no edge); strings stay. */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** The files below `dirs` (less those under an `ignore` prefix) and, for each, the files of that set it imports (relative specifiers only). */
export function importGraph(root, dirs, ignore = []) {
  const ignored = ignore.map((p) => path.resolve(root, p));
  const files = dirs.flatMap((d) => listSources(path.resolve(root, d), [])).filter((f) => !ignored.some((p) => f === p || f.startsWith(p.endsWith(path.sep) ? p : p + path.sep)));
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const text = stripComments(readFileSync(file, 'utf8'));
    const targets = new Set();
    for (const pattern of IMPORT_PATTERNS) {
      for (const m of text.matchAll(pattern)) {
        const spec = m[1];
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        if (known.has(target)) targets.add(target);
      }
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Tarjan's strongly connected components (iterative: no recursion limit on deep graphs). */
export function stronglyConnected(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [node, i] = frame;
      const edges = graph.get(node) ?? [];
      if (i < edges.length) {
        frame[1]++;
        const to = edges[i];
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push([to, 0]);
        } else if (onStack.has(to)) low.set(node, Math.min(low.get(node), index.get(to)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === index.get(node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        components.push(component);
      }
    }
  }
  return components;
}

/** One circle through a component, as a path that ends where it starts (breadth-first: the shortest from its first file). */
function circleIn(graph, component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const cameFrom = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const to of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) return buildTrail(start, node, cameFrom);
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

function buildTrail(start, last, cameFrom) {
  const trail = [];
  for (let n = last; n !== start; n = cameFrom.get(n)) trail.unshift(n);
  return [start, ...trail, start];
}

/**
 * Every import circle below `dirs`: one per strongly connected component, as `path` (a shortest circle
 * through its first file, ending where it starts) and `files` (every file of the component), relative to `root`.
 */
export function findCycles(root, dirs = ['kernel'], options = {}) {
  const graph = importGraph(root, dirs, options.ignore ?? []);
  const rel = (f) => path.relative(root, f).split(path.sep).join('/');
  const cycles = [];
  for (const component of stronglyConnected(graph)) {
    const selfLoop = component.length === 1 && (graph.get(component[0]) ?? []).includes(component[0]);
    if (component.length < 2 && !selfLoop) continue;
    cycles.push({ path: circleIn(graph, component).map(rel), files: component.map(rel).sort() });
  }
  return cycles;
}

/** One line for a circle: the path, and the other files caught in the same knot. */
export function describeCycle(cycle) {
  const others = cycle.files.filter((f) => !cycle.path.includes(f));
  return `import circle: ${cycle.path.join(' → ')}${others.length > 0 ? ` (and ${others.length} more files in the same knot: ${others.join(', ')})` : ''}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const args = process.argv.slice(2);
  const ignore = [];
  const dirs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--ignore') ignore.push(args[++i]);
    else dirs.push(args[i]);
  }
  for (const d of dirs) statSync(path.resolve(root, d));
  const cycles = findCycles(root, dirs.length > 0 ? dirs : ['kernel'], { ignore });
  for (const c of cycles) console.log(describeCycle(c));
  if (cycles.length > 0) process.exit(1);
  console.log('no import circles');
}

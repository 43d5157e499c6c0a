/**
 * Bundles a plugin folder into one CommonJS text with esbuild (control thread). `plugin-sdk` stays
 * external; any other bare import, or a relative one that leaves the plugin's folder, fails the build
 * with the importing file and line.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as esbuild from 'esbuild';
import { readCachedBundle, writeCachedBundle } from './plugin-bundle-cache.ts';

export interface BundleResult {
  code: string;
  /** Every file the bundle read, for the watcher. */
  inputs: string[];
}

export class BundleError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** What besides the input files decides a bundle's text: the esbuild version and our options. */
const BUNDLER_IDENTITY = `esbuild ${(createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version}; cjs node20 inline-sourcemap confine folder-relative ascii; v3`;

/**
 * The plugin's bundle, from the cache when its files have not changed (kernel/plugins/plugin-bundle-cache.ts).
 * A fresh bundle is written to the cache at once, or handed to `later` (a reload writes it after its swap).
 */
export async function bundlePlugin(folder: string, entry: string, contexts?: BundleContexts, later?: (write: () => void) => void): Promise<BundleResult> {
  const cached = readCachedBundle(folder, entry, BUNDLER_IDENTITY);
  if (cached) return cached;
  const builtFrom = Date.now();
  const bundle = await buildPlugin(folder, entry, contexts);
  const write = () => writeCachedBundle(folder, entry, BUNDLER_IDENTITY, bundle, builtFrom);
  if (later) later(write);
  else write();
  return bundle;
}

async function buildPlugin(folder: string, entry: string, contexts?: BundleContexts): Promise<BundleResult> {
  const root = path.resolve(folder);
  const confine: esbuild.Plugin = {
    name: 'chronus-confine',
    setup(build) {
      build.onResolve({ filter: MAY_ESCAPE }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (!args.path.startsWith('.')) {
          return { errors: [{ text: `plugins may import only 'plugin-sdk' and their own files, found '${args.path}'` }] };
        }
        const target = path.resolve(args.resolveDir, args.path);
        if (target !== root && !target.startsWith(root + path.sep)) {
          return { errors: [{ text: `import '${args.path}' leaves the plugin folder` }] };
        }
        return undefined;
      });
    },
  };
  try {
    const options = buildOptions(root, entry, confine);
    // esbuild is loaded on the first build only: a start whose bundles are all cached never loads it.
    const result = contexts ? await contexts.rebuild(root, entry, options) : await (await import('esbuild')).build(options);
    const inputs = Object.keys(result.metafile.inputs).map((f) => path.resolve(root, f));
    return { code: latin1Only(result.outputFiles[0].text), inputs };
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    const first = failure.errors?.[0];
    if (!first) throw e;
    const file = path.resolve(root, first.location ? first.location.file : entry);
    const line = first.location?.line ?? 0;
    const where = first.location ? `${path.relative(process.cwd(), file)}:${line}:${first.location.column + 1}` : path.relative(process.cwd(), file);
    throw new BundleError(`${where}: ${first.text}`, file, line);
  }
}

type Options = esbuild.BuildOptions & { write: false; metafile: true };

/**
 * The imports the confine check is asked about: anything but 'plugin-sdk' (external) that does not
 * start with '.', and any path with '..' in it. A './x' import stays in the folder without a call
 * into this thread (each call is a round trip from esbuild's process: 6 ms of a 14 ms rebuild).
 * Go's regexps have no lookahead: "not exactly plugin-sdk" is spelled out letter by letter.
 */
export const MAY_ESCAPE = new RegExp(`^(?:[^.p]|${notExactly('plugin-sdk'.slice(1), 'p')})|\\.\\.`);

/** A regexp alternative for `first` + anything but exactly `rest` after it. */
function notExactly(rest: string, first: string): string {
  let tail = '.';
  for (const ch of [...rest].reverse()) tail = `(?:$|[^${ch === '-' ? '\\-' : ch}]|${ch === '-' ? '\\-' : ch}${tail})`;
  return `${first}${tail}`;
}

/** What esbuild is asked for a plugin folder's bundle. */
function buildOptions(root: string, entry: string, confine: esbuild.Plugin): Options {
  return {
    // Paths in the bundle (its source map) are relative to the plugin folder, so the bundle does
    // not depend on where the folder is and a copy of it hits the cache.
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    metafile: true,
    // Errors thrown by plugin code are mapped back to the plugin's own files and lines (kernel/plugins/source-map.ts).
    sourcemap: 'inline',
    // Declared-but-uninitialised class fields would start as `undefined`, and V8 would then box
    // every number later stored in them (a heap allocation per store on the audio thread).
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
    sourcesContent: false,
    logLevel: 'silent',
    external: ['plugin-sdk'],
    plugins: [confine],
  };
}

/**
 * esbuild contexts of one engine, by plugin folder and entry: an edit is rebuilt incrementally (what
 * did not change is not parsed again), the most recently used MAX_CONTEXTS kept. They live in
 * esbuild's own process and keep it, and so ours, alive until `dispose` (engine stop).
 */
export class BundleContexts {
  private readonly contexts = new Map<string, Promise<esbuild.BuildContext<Options>>>();

  async rebuild(root: string, entry: string, options: Options): Promise<esbuild.BuildResult<Options>> {
    const key = `${root}\0${entry}`;
    let made = this.contexts.get(key);
    this.contexts.delete(key);
    made ??= import('esbuild').then(({ context }) => context(options));
    this.contexts.set(key, made);
    for (const [old, ctx] of this.contexts) {
      if (this.contexts.size <= MAX_CONTEXTS) break;
      this.contexts.delete(old);
      void ctx.then((c) => c.dispose(), () => undefined);
    }
    try {
      return await (await made).rebuild();
    } catch (e) {
      // A context that could not be made is not kept; the next build makes another.
      if (!(await made.then(() => true, () => false)) && this.contexts.get(key) === made) this.contexts.delete(key);
      throw e;
    }
  }

  /** The contexts kept for the plugin folder `root` (a folder removed takes its context with it). */
  async forget(root: string): Promise<void> {
    const prefix = `${path.resolve(root)}\0`;
    const gone = [...this.contexts].filter(([key]) => key.startsWith(prefix));
    for (const [key] of gone) this.contexts.delete(key);
    await Promise.all(gone.map(([, c]) => c.then((ctx) => ctx.dispose(), () => undefined)));
  }

  /** Folders with a context kept (tests). */
  folders(): string[] {
    return [...this.contexts.keys()].map((key) => key.split('\0')[0]);
  }

  async dispose(): Promise<void> {
    const all = [...this.contexts.values()];
    this.contexts.clear();
    await Promise.all(all.map((c) => c.then((ctx) => ctx.dispose(), () => undefined)));
  }
}

const MAX_CONTEXTS = 32;

/**
 * esbuild escapes non-ASCII characters in code but leaves those of the comments it keeps: one `…`
 * made the whole bundle a two-byte string, twice its size in every thread that holds it (each
 * realm keeps its source; every load sends it to the audio thread). Outside comments there are none
 * left, and inside one an escape is as good.
 */
function latin1Only(code: string): string {
  return code.replace(/[^\x00-\xff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

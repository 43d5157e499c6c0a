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
const BUNDLER_IDENTITY = `esbuild ${(createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version}; cjs node20 inline-sourcemap confine folder-relative; v2`;

/** The plugin's bundle, from the cache when its files have not changed (kernel/plugins/plugin-bundle-cache.ts). */
export async function bundlePlugin(folder: string, entry: string): Promise<BundleResult> {
  const cached = readCachedBundle(folder, entry, BUNDLER_IDENTITY);
  if (cached) return cached;
  const builtFrom = Date.now();
  const bundle = await buildPlugin(folder, entry);
  writeCachedBundle(folder, entry, BUNDLER_IDENTITY, bundle, builtFrom);
  return bundle;
}

async function buildPlugin(folder: string, entry: string): Promise<BundleResult> {
  const root = path.resolve(folder);
  const confine: esbuild.Plugin = {
    name: 'chronus-confine',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.path === 'plugin-sdk') return { path: 'plugin-sdk', external: true };
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
    // Loaded on the first build only: a start whose bundles are all cached never loads esbuild.
    const { build } = await import('esbuild');
    const result = await build({
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
      plugins: [confine],
    });
    const inputs = Object.keys(result.metafile.inputs).map((f) => path.resolve(root, f));
    return { code: result.outputFiles[0].text, inputs };
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

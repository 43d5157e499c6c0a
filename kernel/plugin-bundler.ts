/**
 * Bundles a plugin folder into one CommonJS text with esbuild (control thread). `plugin-sdk` stays
 * external; any other bare import, or a relative one that leaves the plugin's folder, fails the build
 * with the importing file and line.
 */
import path from 'node:path';
import * as esbuild from 'esbuild';

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

export async function bundlePlugin(folder: string, entry: string): Promise<BundleResult> {
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
    const result = await esbuild.build({
      entryPoints: [path.join(root, entry)],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      metafile: true,
      // Errors thrown by plugin code are mapped back to the plugin's own files and lines (kernel/source-map.ts).
      sourcemap: 'inline',
      // Declared-but-uninitialised class fields would start as `undefined`, and V8 would then box
      // every number later stored in them (a heap allocation per store on the audio thread).
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [confine],
    });
    const inputs = Object.keys(result.metafile.inputs).map((f) => path.resolve(f));
    return { code: result.outputFiles[0].text, inputs };
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    const first = failure.errors?.[0];
    if (!first) throw e;
    const file = first.location ? path.resolve(first.location.file) : path.join(root, entry);
    const line = first.location?.line ?? 0;
    const where = first.location ? `${path.relative(process.cwd(), file)}:${line}:${first.location.column + 1}` : path.relative(process.cwd(), file);
    throw new BundleError(`${where}: ${first.text}`, file, line);
  }
}

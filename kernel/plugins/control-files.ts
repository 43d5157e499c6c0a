/**
 * A control half's folders (control thread): its own folder for files (`ctx.files`, read and write)
 * and its plugin folder (`ctx.pluginFiles`, read only: what ships with the plugin, e.g. samples).
 * Every path is relative to the folder and checked before use — `..`, absolute paths and symbolic
 * links that lead out are refused with PATH_ESCAPE, so a name that came over OSC or from a file can
 * never reach beyond it. Open files belong to the plugin (closed when it is unloaded); watches belong
 * to the version that asked (closed with it).
 */
import { copyFile, link, mkdir, open, readdir, readFile, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { watch } from 'chokidar';
import type { PluginFiles, PluginFileStat, PluginFolder } from '../../plugin-sdk/control.ts';
import { ChronusError, ErrorCode } from '../base/errors.ts';
import { fsyncDir, writeFileAtomic } from '../base/atomic-file.ts';
import type { VersionResources } from './control-resources.ts';

function outside(name: string, root: string): ChronusError {
  return new ChronusError(ErrorCode.PATH_ESCAPE, `"${name.slice(0, 200)}" is outside the plugin's folder ${root}`, {
    hint: 'Use a name relative to the folder, without "..".',
  });
}

/** `name` resolved inside `root`, or a thrown PLUGIN_PATH_OUTSIDE. No file system access. */
export function insideFolder(root: string, name: string): string {
  if (typeof name !== 'string' || name.includes('\0') || path.isAbsolute(name)) throw outside(String(name), root);
  const full = path.resolve(root, name);
  if (full !== root && !full.startsWith(root + path.sep)) throw outside(name, root);
  return full;
}

/** The deepest existing ancestor of `full` must, with links resolved, still be inside `root`. */
async function checkLinks(root: string, full: string, name: string): Promise<void> {
  const realRoot = await realpath(root).catch(() => root);
  let probe = full;
  for (;;) {
    const real = await realpath(probe).catch(() => null);
    if (real !== null) {
      if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw outside(name, root);
      return;
    }
    const up = path.dirname(probe);
    if (up === probe) return;
    probe = up;
  }
}

/** The read-only part of a folder view: `resolve` checks a name (and may create the root first). */
function readOnlyView(root: string, resolve: (name: string) => Promise<string>, version: () => VersionResources): PluginFolder {
  return {
    root,
    path: (name) => insideFolder(root, name),
    readFile: async (name) => new Uint8Array(await readFile(await resolve(name))),
    readdir: async (name = '.') => readdir(await resolve(name)),
    async stat(name): Promise<PluginFileStat | null> {
      const s = await stat(await resolve(name)).catch(() => null);
      return s && { size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
    },
    watch(name, onChange) {
      const full = insideFolder(root, name);
      const watcher = watch(full, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 30, pollInterval: 10 } });
      const report = (kind: 'add' | 'change' | 'unlink') => (file: string) => {
        const rel = path.relative(root, file);
        if (!rel.startsWith('..')) version().run(() => onChange(rel, kind));
      };
      watcher.on('add', report('add')).on('change', report('change')).on('unlink', report('unlink'));
      watcher.on('error', () => undefined);
      version().onClose(() => watcher.close());
    },
  };
}

/** The plugin's own folder (where its plugin.json is), read only: `ctx.pluginFiles`. */
export function pluginFolder(root: string, version: () => VersionResources): PluginFolder {
  return readOnlyView(
    root,
    async (name) => {
      const full = insideFolder(root, name);
      await checkLinks(root, full, name);
      return full;
    },
    version,
  );
}

/** The control half's folder for files, created on first use: `ctx.files`. */
export function pluginFiles(root: string, openFiles: Set<FileHandle>, version: () => VersionResources): PluginFiles {
  const resolve = async (name: string): Promise<string> => {
    const full = insideFolder(root, name);
    await mkdir(root, { recursive: true });
    await checkLinks(root, full, name);
    return full;
  };
  return {
    ...readOnlyView(root, resolve, version),
    async open(name, flags) {
      const fh = await open(await resolve(name), flags, 0o644);
      openFiles.add(fh);
      const close = fh.close.bind(fh);
      // The set forgets a file its plugin closed itself.
      fh.close = async () => {
        openFiles.delete(fh);
        await close();
      };
      return fh;
    },
    async writeFileAtomic(name, data) {
      const full = await resolve(name);
      await mkdir(path.dirname(full), { recursive: true });
      await writeFileAtomic(full, data);
    },
    mkdir: async (name) => {
      await mkdir(await resolve(name), { recursive: true });
    },
    syncDir: async (name = '.') => fsyncDir(await resolve(name)),
    rename: async (from, to) => rename(await resolve(from), await resolve(to)),
    async link(from, to) {
      const [source, target] = [await resolve(from), await resolve(to)];
      await link(source, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === 'EXDEV' || error.code === 'EPERM' || error.code === 'ENOTSUP' || error.code === 'EMLINK') await copyFile(source, target);
        else throw error;
      });
    },
    remove: async (name) => rm(await resolve(name), { force: true, recursive: true }),
  };
}

/**
 * Where in a plugin's own files an error happened: stack frames of a bundle (compiled with an inline
 * source map) are mapped back to `file:line` with Node's built-in SourceMap.
 */
import { SourceMap } from 'node:module';
import path from 'node:path';

const INLINE = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/** What locating an error needs of a source map. */
export type PluginSourceMap = Pick<SourceMap, 'findEntry'>;

/**
 * The bundle's inline source map, decoded on first use: most loads never map an error, and decoding
 * every plugin's map cost a start ≈ 40 ms.
 */
export function sourceMapOf(code: string): PluginSourceMap {
  let map: SourceMap | null | undefined;
  return {
    findEntry(line, column) {
      map ??= decode(code);
      return map ? map.findEntry(line, column) : {};
    },
  };
}

function decode(code: string): SourceMap | null {
  const m = INLINE.exec(code);
  if (!m) return null;
  try {
    return new SourceMap(JSON.parse(Buffer.from(m[1], 'base64').toString('utf8')));
  } catch {
    return null;
  }
}

/**
 * The first frame of `stack` inside `bundleFile`, as `relative/source.ts:line:col` (relative to
 * `cwd`), or null. The map's sources are relative to `sourceRoot`, the plugin folder.
 */
export function locateError(stack: string, bundleFile: string, map: PluginSourceMap | null, sourceRoot: string, cwd = process.cwd()): string | null {
  if (!map) return null;
  const escaped = bundleFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  if (!frame) return null;
  const entry = map.findEntry(Number(frame[1]) - 1, Number(frame[2]) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (!entry?.originalSource) return null;
  const source = entry.originalSource.startsWith('file://') ? new URL(entry.originalSource).pathname : entry.originalSource;
  return `${path.relative(cwd, path.resolve(sourceRoot, source))}:${(entry.originalLine ?? 0) + 1}:${(entry.originalColumn ?? 0) + 1}`;
}

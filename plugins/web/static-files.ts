/**
 * The page's files, served from `public/` in this plugin's folder through `ctx.pluginFiles` (read
 * only, confined to the folder: a name that leaves it is refused there, and answered 404 here).
 */
import type { HttpResponse, PluginFolder } from 'plugin-sdk';

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
};

/**
 * What the page may load: its own files, nothing inline, no framing. `connect-src 'self'` covers its
 * WebSocket to the same host and port.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const NOT_FOUND: HttpResponse = { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found.' };

/** `name` (e.g. `app.js`, `vendor/uPlot.min.css`) from public/, or 404. */
export async function serveFile(files: PluginFolder, name: string): Promise<HttpResponse> {
  if (name === '' || name.split('/').some((part) => part === '' || part === '.' || part === '..')) return NOT_FOUND;
  const file = `public/${name}`;
  let body: Uint8Array;
  try {
    const stat = await files.stat(file);
    if (!stat?.isFile) return NOT_FOUND;
    body = await files.readFile(file);
  } catch {
    return NOT_FOUND;
  }
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const headers: Record<string, string> = {
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    // Edits of the page show on the next load; the files are small and local.
    'cache-control': 'no-cache',
  };
  if (ext === 'html') {
    headers['content-security-policy'] = CSP;
    headers['x-frame-options'] = 'DENY';
    headers['referrer-policy'] = 'no-referrer';
  }
  return { status: 200, headers, body };
}

/**
 * The `web` plugin: a control half only. One HTTP + WebSocket port (`ctx.http`) serves
 *
 * | request                                   | answered by                                          |
 * | ----------------------------------------- | ---------------------------------------------------- |
 * | `GET /` from a browser (Accept: text/html) | the page, public/index.html (static-files.ts)        |
 * | `GET /web/<file>`                         | the page's files in public/                          |
 * | any other GET (`/`, `/mod/voice1?VALUE`)  | OSCQuery: the namespace, attributes, `?HOST_INFO`    |
 * | WebSocket `/web/live`                     | the page's live feed (live-feed.ts)                  |
 * | any other WebSocket                       | OSCQuery: LISTEN/IGNORE, PATH_ADDED/PATH_REMOVED     |
 *
 * and, when `advertise` is on, announces it over mDNS as `_oscjson._tcp`.
 *
 * Config `plugins.web`: `enabled` (default true), `port` (5007; 0 any free port), `host`
 * (127.0.0.1: this machine only; beyond loopback only the senders of `osc.allow` connect), `advertise`
 * (false), `mdnsInterface` (null: every interface; or the address of one), `name` ("Chronus": HOST_INFO's
 * NAME and the mDNS name), `frameHz` (30: meters, spectrum and scope per second), `origins` (other
 * page origins whose WebSockets are let in). A changed section
 * takes effect at once. Nothing is served in an offline render.
 */
import { defineControl, z, type ControlContext, type HttpRequest, type HttpResponse, type PluginHttpServer } from 'plugin-sdk';
import { LiveFeed } from './live-feed.ts';
import { OscQueryService } from './oscquery-service.ts';
import { NOT_FOUND, serveFile } from './static-files.ts';

const WebConfig = z.looseObject({
  port: z.number().int().min(0).max(65535).default(5007),
  host: z.string().min(1).default('127.0.0.1'),
  advertise: z.boolean().default(false),
  name: z.string().min(1).max(63).default('Chronus'),
  frameHz: z.number().min(1).max(60).default(30),
  origins: z.array(z.string()).default([]),
  /** The address of the interface mDNS announces on (null: every interface). */
  mdnsInterface: z.string().min(1).nullable().default(null),
});
type WebConfig = z.infer<typeof WebConfig>;

/** The page's live feed; every other WebSocket path is an OSCQuery client. */
export const LIVE_PATH = '/web/live';

function readConfig(ctx: ControlContext, section: Readonly<Record<string, unknown>>): WebConfig {
  const parsed = WebConfig.safeParse(section);
  if (parsed.success) return parsed.data;
  ctx.log.error(`plugins.web: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}; using the defaults`);
  return WebConfig.parse({});
}

function splitUrl(url: string): { pathname: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { pathname: url, query: '' } : { pathname: url.slice(0, q), query: url.slice(q + 1) };
}

/** The address people type: loopback as is; an address that means "every interface" as this machine's loopback. */
function pageUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}/`;
}

export default defineControl({
  async create(ctx) {
    // An offline render has no one to look at it.
    if (!ctx.realtime) return {};
    let config = readConfig(ctx, ctx.config);
    let oscquery = new OscQueryService(ctx, config.name);
    const feed = new LiveFeed(ctx, config.frameHz);
    ctx.engine.onParam((address, value) => {
      oscquery.paramChanged(address, value);
      feed.paramChanged(address, value);
    });
    ctx.engine.onPlugins((change) => {
      if (change.kind !== 'failed') oscquery.pluginsChanged();
      feed.pluginChanged(change);
    });

    const answer = async (request: HttpRequest): Promise<HttpResponse> => {
      const { pathname, query } = splitUrl(request.url);
      if (pathname === '/' && query === '' && (request.headers.accept ?? '').includes('text/html')) return serveFile(ctx.pluginFiles, 'index.html');
      if (pathname.startsWith('/web/')) {
        try {
          return await serveFile(ctx.pluginFiles, decodeURIComponent(pathname.slice('/web/'.length)));
        } catch {
          return NOT_FOUND;
        }
      }
      return oscquery.answer(request);
    };

    let server: PluginHttpServer | null = null;
    let advert: { stop(): Promise<void> } | null = null;
    const open = async (): Promise<void> => {
      try {
        server = await ctx.http({ port: config.port, host: config.host, origins: config.origins });
      } catch (error) {
        const message = String((error as Error)?.message ?? error).split('\n')[0];
        ctx.log.warn(`the web view and OSCQuery are off: ${message}`);
        ctx.setStatus({ listening: false, error: message });
        return;
      }
      server.onRequest(answer);
      server.onWebSocket((socket, request) => {
        if (splitUrl(request.url).pathname === LIVE_PATH) void feed.add(socket);
        else oscquery.add(socket);
      });
      const url = pageUrl(server.host, server.port);
      ctx.setStatus({ listening: true, url, host: server.host, port: server.port, advertised: config.advertise });
      const wide = !/^(127\.|localhost$|::1$)/.test(server.host);
      ctx.log.info(`web view and OSCQuery at ${url}${wide ? ` (listening on ${server.host}: loopback and the senders of osc.allow connect)` : ''}`);
      if (config.advertise) {
        try {
          advert = await ctx.advertise({ name: config.name, type: 'oscjson', protocol: 'tcp', port: server.port, ...(config.mdnsInterface ? { interface: config.mdnsInterface } : {}) });
        } catch (error) {
          ctx.log.warn(`mDNS: ${String((error as Error)?.message ?? error).split('\n')[0]}`);
        }
      }
    };
    const close = async (): Promise<void> => {
      await advert?.stop();
      advert = null;
      await server?.close();
      server = null;
    };
    await open();

    return {
      async configChanged(section) {
        const next = readConfig(ctx, section);
        const reopen = JSON.stringify({ ...next, frameHz: 0 }) !== JSON.stringify({ ...config, frameHz: 0 });
        feed.setFrameHz(next.frameHz);
        config = next;
        if (!reopen) return;
        await close();
        // Clients of the old name were closed with the server: they reconnect to the new one.
        oscquery = new OscQueryService(ctx, next.name);
        await open();
      },
    };
  },
});

/** HTTP and WebSocket clients for tests of servers that plugins open (`ctx.http`): loopback only, bounded waits. */
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';

/** A TCP port that was free a moment ago (listen on 0, note the port, close). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to 127.0.0.1:`port` (any method; headers such as `host` or `accept` as given). */
export function httpGet(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, timeout: 5000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from 127.0.0.1:${port}${path} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** A GET whose body is JSON. */
export async function getJson(port: number, path: string): Promise<unknown> {
  const r = await httpGet(port, path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
}

export interface TestSocket {
  ws: WebSocket;
  /** The next message (text as a string, binary as a Buffer), within `timeoutMs`. */
  next(timeoutMs?: number): Promise<string | Buffer>;
  /** The next message that `match` accepts (others are skipped). */
  nextMatching(match: (m: string | Buffer) => boolean, timeoutMs?: number): Promise<string | Buffer>;
  /** Resolves with the close code. */
  closed: Promise<number>;
}

/** Opens ws://127.0.0.1:`port``path` (with an Origin or Host header when given); rejects with the HTTP status when refused. */
export function openSocket(port: number, path: string, options: { origin?: string; headers?: Record<string, string> } = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { origin: options.origin, headers: options.headers, handshakeTimeout: 5000 });
    const queue: (string | Buffer)[] = [];
    const waiting: ((m: string | Buffer) => void)[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const m = isBinary ? data : data.toString('utf8');
      const w = waiting.shift();
      if (w) w(m);
      else queue.push(m);
    });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    const next = (timeoutMs = 5000) =>
      new Promise<string | Buffer>((res, rej) => {
        const m = queue.shift();
        if (m !== undefined) return res(m);
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(take), 1);
          rej(new Error(`no WebSocket message within ${timeoutMs} ms`));
        }, timeoutMs);
        const take = (x: string | Buffer) => {
          clearTimeout(timer);
          res(x);
        };
        waiting.push(take);
      });
    const nextMatching = async (match: (m: string | Buffer) => boolean, timeoutMs = 5000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = await next(Math.max(1, until - Date.now()));
        if (match(m)) return m;
      }
    };
    ws.once('open', () => resolve({ ws, next, nextMatching, closed }));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`WebSocket refused: ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

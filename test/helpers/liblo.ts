/**
 * Test helpers around liblo's command-line tools (Debian `liblo-tools`):
 * `oscsend` as a real external client, `oscdump` as a real external receiver.
 *
 * Every process started here is tracked; `close()` stops one (SIGTERM, then SIGKILL), and any
 * still running when the test process exits is SIGKILLed. Register `close()` with `t.after`.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import osc from 'osc';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** True when both tools are installed (`apt-get install -y liblo-tools`). */
export function hasLiblo(): boolean {
  return ['oscsend', 'oscdump'].every((tool) => spawnSync('which', [tool]).status === 0);
}

/**
 * Runs `oscsend host port address types values...` and resolves when it has exited 0.
 * Types as liblo spells them: i h f d s S c m T F N (T F N take no value).
 */
export function oscsend(
  host: string,
  port: number,
  address: string,
  types = '',
  ...values: Array<string | number>
): Promise<void> {
  const argv = [host, String(port), address, types, ...values.map(String)];
  return new Promise((resolve, reject) => {
    execFile('oscsend', argv, { timeout: 5000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`oscsend ${argv.join(' ')} failed: ${err.message} ${stderr}`));
      else resolve();
    });
  });
}

/** One argument as oscdump prints it, parsed back. */
export type OscdumpValue = number | string | boolean | null | number[];

/** One line of `oscdump` output: `<ntp secs hex>.<frac hex> <address> <types> <values...>`. */
export interface OscdumpLine {
  raw: string;
  /** NTP time tag liblo printed (the receive time, or the bundle's time tag). */
  timetag: string;
  address: string;
  types: string;
  args: OscdumpValue[];
}

/**
 * Parses an oscdump line; null if it is not a message line (e.g. a liblo error on stderr).
 * Strings print as "…" (s), '…' (S) and 'x' (c) without escaping: a string argument that is not
 * the last one must not contain `" ` (quote + space) to parse unambiguously.
 */
export function parseOscdumpLine(line: string): OscdumpLine | null {
  const head = /^([0-9a-f]{8}\.[0-9a-f]{8}) (\/\S*) ?(\S*) ?/.exec(line);
  if (head === null) return null;
  const [matched, timetag, address, types] = head as unknown as [string, string, string, string];
  let rest = line.slice(matched.length);
  const args: OscdumpValue[] = [];
  const word = (): string => {
    const space = rest.indexOf(' ');
    const w = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? '' : rest.slice(space + 1);
    return w;
  };
  const quoted = (quote: string, isLast: boolean): string => {
    if (!rest.startsWith(quote)) throw new Error(`expected ${quote} at: ${rest}`);
    const end = isLast ? rest.lastIndexOf(quote) : rest.indexOf(`${quote} `, 1);
    if (end <= 0) throw new Error(`unterminated string at: ${rest}`);
    const s = rest.slice(1, end);
    rest = rest.slice(end + 2);
    return s;
  };
  const bytes = (): number[] => {
    const close = rest.indexOf(']');
    const inner = rest.slice(1, close).split(' ');
    rest = rest.slice(close + 2);
    return inner.filter((w) => w.startsWith('0x')).map((w) => Number.parseInt(w, 16));
  };
  try {
    for (let i = 0; i < types.length; i++) {
      const isLast = i === types.length - 1;
      switch (types[i]) {
        case 'i': case 'h': case 'f': case 'd':
          args.push(Number(word()));
          break;
        case 's':
          args.push(quoted('"', isLast));
          break;
        case 'S': case 'c':
          args.push(quoted("'", isLast));
          break;
        case 'T': case 'F':
          args.push(word() === '#T');
          break;
        case 'N':
          word();
          args.push(null);
          break;
        case 'I':
          word();
          args.push(1);
          break;
        case 'b':
          args.push(bytes());
          break;
        case 'm':
          word(); // "MIDI"
          args.push(bytes());
          break;
        default:
          args.push(word());
      }
    }
  } catch {
    return null;
  }
  return { raw: line, timetag, address, types, args };
}

export interface Oscdump {
  /** The UDP port oscdump listens on. */
  readonly port: number;
  /** Every parsed line so far (readiness probes included: filter by address). */
  readonly lines: OscdumpLine[];
  /** Everything it wrote to stderr. */
  stderr(): string;
  /** Resolves with the first line (already received or future) matching `predicate`. */
  waitFor(predicate: (line: OscdumpLine) => boolean, timeoutMs?: number): Promise<OscdumpLine>;
  /** Resolves once `n` lines match `predicate`. */
  waitForCount(predicate: (line: OscdumpLine) => boolean, n: number, timeoutMs?: number): Promise<OscdumpLine[]>;
  /** Stops the process (SIGTERM, SIGKILL after 2 s) and resolves when it has exited. */
  close(): Promise<void>;
}

export const PROBE_ADDRESS = '/chronus/test/probe';

/**
 * Starts `oscdump -L <port>` on a free port and waits until it is really receiving: oscdump prints
 * nothing when ready, so probe messages are sent every 50 ms until one is printed (bounded by
 * `timeoutMs`). A port taken between choosing and binding is retried with another.
 */
export async function startOscdump(timeoutMs = 10_000): Promise<Oscdump> {
  const deadline = Date.now() + timeoutMs;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5 && Date.now() < deadline; attempt++) {
    const dump = launchOscdump(await freeUdpPort());
    try {
      await dump.ready(deadline);
      return dump.api;
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
      await dump.api.close();
    }
  }
  throw new Error(`oscdump did not become ready: ${lastError?.message ?? 'timed out'}`);
}

function launchOscdump(port: number): { api: Oscdump; ready: (deadline: number) => Promise<void> } {
  const child = spawn('oscdump', ['-L', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: OscdumpLine[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  let partial = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      for (const notify of listeners) notify();
      resolve();
    });
    child.once('error', (err) => {
      stderr += `spawn error: ${err.message}\n`;
      exited = true;
      running.delete(child);
      for (const notify of listeners) notify();
      resolve();
    });
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const text of complete) {
      const parsed = parseOscdumpLine(text);
      if (parsed !== null) lines.push(parsed);
    }
    for (const notify of listeners) notify();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });

  const waitForCount = (predicate: (line: OscdumpLine) => boolean, n: number, timeoutMs = 5000): Promise<OscdumpLine[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.filter(predicate);
        if (found.length >= n) return done(() => resolve(found));
        if (exited) return done(() => reject(new Error(`oscdump exited before ${n} matching line(s); stderr: ${stderr}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(
        `timed out after ${timeoutMs} ms waiting for ${n} matching oscdump line(s); got: ${JSON.stringify(lines.map((l) => l.raw))}; stderr: ${stderr}`,
      ))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const api: Oscdump = {
    port,
    lines,
    stderr: () => stderr,
    waitFor: async (predicate, timeoutMs) => (await waitForCount(predicate, 1, timeoutMs))[0] as OscdumpLine,
    waitForCount,
    close: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exit;
        clearTimeout(timer);
      }
    },
  };

  const ready = async (deadline: number): Promise<void> => {
    const socket = dgram.createSocket('udp4');
    const probe = Buffer.from(osc.writeMessage({ address: PROBE_ADDRESS, args: [{ type: 'i', value: port }] }, { metadata: true }));
    const timer = setInterval(() => socket.send(probe, port, '127.0.0.1'), 50);
    socket.send(probe, port, '127.0.0.1');
    try {
      await waitForCount((l) => l.address === PROBE_ADDRESS, 1, Math.max(1, deadline - Date.now()));
    } finally {
      clearInterval(timer);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  };

  return { api, ready };
}

/** A UDP port that was free a moment ago (bind port 0, read it, release it). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

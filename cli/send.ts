/**
 * `chronus send <address> [args...]`: one message to a running engine, followed by `/engine/ping`,
 * which the engine answers (`/engine/pong`) once everything before it has been handled — so every
 * reply the message brings (one, several, or none for a parameter or gate) is printed, in order,
 * before send returns. Exit status: 0 (no /error among the replies), 1 (an /error), 3 (nothing
 * answered within --timeout: no engine on that host and port).
 */
import type { Config } from '../kernel/base/config.ts';
import { errorHint } from '../kernel/base/errors.ts';
import { OscClient, type OscReply } from './osc-client.ts';
import type { OscSendArg } from '../kernel/osc/osc-transport.ts';

export const EXIT_NO_ENGINE = 3;
const DEFAULT_TIMEOUT_MS = 2000;

/** Command-line words to OSC arguments: integers as int32, other numbers as float, the rest as strings. */
export function parseCliArgs(words: string[]): OscSendArg[] {
  return words.map((w) => {
    if (/^-?\d+$/.test(w) && Number.isSafeInteger(Number(w))) return { type: 'i', value: Number(w) };
    if (w.trim() !== '' && Number.isFinite(Number(w))) return { type: 'f', value: Number(w) };
    return w;
  });
}

function line(reply: OscReply): string {
  return `${reply.address} ${reply.args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`.trimEnd();
}

export async function sendCommand(config: Config, words: string[], values: { host?: string; port?: string; timeout?: string }): Promise<number> {
  const [address, ...rest] = words;
  if (!address?.startsWith('/')) throw new Error('send needs an OSC address starting with /: chronus send /gate/voice1 1');
  const host = values.host ?? config.osc.host;
  const port = values.port === undefined ? config.osc.port : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be an integer 1–65535 (found '${values.port}')`);
  const timeoutMs = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : Number(values.timeout);
  if (!(timeoutMs > 0)) throw new Error(`--timeout must be a positive number of milliseconds (found '${values.timeout}')`);
  const client = await OscClient.open();
  try {
    const { replies, ended } = await client.collect(host, port, [{ address, args: parseCliArgs(rest) }, { address: '/engine/ping' }], {
      timeoutMs,
      until: '/engine/pong',
      onReply: (r) => {
        process.stdout.write(`${line(r)}\n`);
        // An engine error's default hint (kernel/base/errors.ts), for the person at the terminal.
        const hint = r.address === '/error' || r.address === '/engine/error' ? errorHint(String(r.args[1])) : undefined;
        if (hint) process.stderr.write(`chronus: ${String(r.args[1])}: ${hint}\n`);
      },
    });
    if (replies.length > 0 || ended) return replies.some((r) => r.address === '/error') ? 1 : 0;
    process.stderr.write(`chronus: no reply from ${host}:${port} within ${timeoutMs} ms — is the engine running? (start it with npm start; --host, --port and --timeout choose where and how long to ask)\n`);
    return EXIT_NO_ENGINE;
  } finally {
    await client.close();
  }
}

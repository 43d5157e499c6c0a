/** `chronus send <address> [args...]`: one message to a running engine; prints any reply for a moment. */
import type { Config } from '../kernel/config.ts';
import { OscClient } from '../kernel/osc-client.ts';
import type { OscSendArg } from '../kernel/osc-transport.ts';

/** Command-line words to OSC arguments: integers as int32, other numbers as float, the rest as strings. */
export function parseCliArgs(words: string[]): OscSendArg[] {
  return words.map((w) => {
    if (/^-?\d+$/.test(w) && Number.isSafeInteger(Number(w))) return { type: 'i', value: Number(w) };
    if (w.trim() !== '' && Number.isFinite(Number(w))) return { type: 'f', value: Number(w) };
    return w;
  });
}

export async function sendCommand(config: Config, words: string[], values: { host?: string; port?: string; timeout?: string }): Promise<number> {
  const [address, ...rest] = words;
  if (!address?.startsWith('/')) throw new Error('send needs an OSC address starting with /: chronus send /gate/voice1 1');
  const host = values.host ?? config.osc.host;
  const port = values.port === undefined ? config.osc.port : Number(values.port);
  const timeoutMs = values.timeout === undefined ? 500 : Number(values.timeout);
  const client = await OscClient.open();
  try {
    const reply = await client.request(host, port, address, parseCliArgs(rest), { timeoutMs }).catch(() => null);
    if (reply) {
      process.stdout.write(`${reply.address} ${reply.args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`);
      return reply.address === '/error' ? 1 : 0;
    }
    return 0;
  } finally {
    client.close();
  }
}

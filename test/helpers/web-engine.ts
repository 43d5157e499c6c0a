/**
 * A real-time engine (null backend) in this process with the `web` plugin, for tests of the web view
 * and OSCQuery: OSC on a free UDP port, the web plugin on a free TCP port, hot reload on, a temp root
 * with copies of the chosen plugin folders. `close()` stops everything and removes the root.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OscClient, type OscReply } from '../../cli/osc-client.ts';
import { loadConfig, type Config } from '../../kernel/base/config.ts';
import { Logger } from '../../kernel/base/logger.ts';
import { Engine } from '../../kernel/engine/engine.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from './offline-engine.ts';

export const PROJECT_PLUGINS = path.join(PROJECT_ROOT, 'plugins');

export interface WebEngine {
  engine: Engine;
  root: string;
  /** The web plugin's HTTP + WebSocket port. */
  webPort: number;
  /** The engine's OSC (UDP) port. */
  oscPort: number;
  /** A UDP OSC client of the engine (replies come back to it). */
  osc: OscClient;
  /** Engine-wide notices seen (address and arguments), in order. */
  notices: { address: string; args: readonly unknown[] }[];
  /** Sends an OSC message over UDP and waits for /engine/pong: the message has been handled. */
  send(address: string, args?: (number | string)[]): Promise<void>;
  /** Sends and resolves with the first reply at `replyAddress`. */
  request(address: string, args: (number | string)[], replyAddress: string): Promise<OscReply>;
  /** Waits (bounded) until `check()` holds. */
  until(check: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the engine with `plugins` (folder names of plugins/, with `web` added) and optional fixtures. */
export async function startWebEngine(options: { plugins?: string[]; fixtures?: string[]; configure?: (c: Config) => void } = {}): Promise<WebEngine> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-web-'));
  await writeTestConfig(root);
  for (const name of new Set([...(options.plugins ?? ['voices']), 'web'])) await cp(path.join(PROJECT_PLUGINS, name), path.join(root, 'plugins', name), { recursive: true });
  for (const name of options.fixtures ?? []) await cp(path.join(FIXTURE_PLUGINS, name), path.join(root, 'plugins', name), { recursive: true });
  const config = loadConfig({ root, env: { CHRONUS_OSC_PORT: '0' } });
  config.engine.console = false;
  options.configure?.(config);
  let engine: Engine;
  try {
    engine = await Engine.start({ config, root, backend: 'null', listen: true, status: false, watch: true, log: Logger.silent() });
  } catch (e) {
    await rm(root, { recursive: true, force: true });
    throw e;
  }
  const notices: WebEngine['notices'] = [];
  engine.onBroadcast = (address, args) => notices.push({ address, args });
  const webPort = engine.plugins.controls.statuses.get('web')?.port;
  const oscPort = engine.transport?.port;
  const osc = await OscClient.open();
  const close = async () => {
    try {
      await osc.close();
      await engine.stop();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  };
  if (typeof webPort !== 'number' || typeof oscPort !== 'number') {
    await close();
    throw new Error(`the web plugin did not start: ${JSON.stringify(engine.plugins.controls.statuses.get('web'))}`);
  }
  const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    engine,
    root,
    webPort,
    oscPort,
    osc,
    notices,
    async send(address, args = []) {
      osc.send('127.0.0.1', oscPort, address, args);
      await osc.request('127.0.0.1', oscPort, '/engine/ping', [], { replyAddress: '/engine/pong', timeoutMs: 5000 });
    },
    request: (address, args, replyAddress) => osc.request('127.0.0.1', oscPort, address, args, { replyAddress, timeoutMs: 5000 }),
    until,
    close,
  };
}

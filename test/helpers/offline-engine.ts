/**
 * An engine in this process on the offline backend, for tests: messages go through the real router
 * at exact frames, replies are collected, and audio is rendered on demand.
 */
import { mkdtemp, rm, mkdir, cp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InProcessHost } from '../../kernel/host/audio-host.ts';
import { loadConfig, type Config } from '../../kernel/base/config.ts';
import { Engine, type EngineOptions } from '../../kernel/engine/engine.ts';
import { Logger } from '../../kernel/base/logger.ts';
import type { Remote } from '../../kernel/osc/osc-router.ts';
import { plainArgs } from '../../kernel/osc/osc-args.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `<root>/config/default.json` for a test engine: the project's, with the web plugin on any free port
 * (`plugins.web.port` 0) so engines of tests never fight over its fixed port or a user's running engine.
 */
export async function writeTestConfig(root: string): Promise<void> {
  const config = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'config/default.json'), 'utf8')) as { plugins: Record<string, Record<string, unknown>> };
  config.plugins.web = { ...config.plugins.web, port: 0 };
  await mkdir(path.join(root, 'config'), { recursive: true });
  await writeFile(path.join(root, 'config/default.json'), `${JSON.stringify(config, null, 2)}\n`);
}
export const FIXTURE_PLUGINS = path.join(PROJECT_ROOT, 'test/fixtures/plugins');
const TEST_REMOTE: Remote = { address: 'test', port: 1 };

export interface Reply {
  address: string;
  args: readonly unknown[];
}

export interface OfflineEngineOptions {
  /** Plugin folders to copy into the engine's own plugins/ (default: the project's plugins/). */
  pluginsFrom?: string | string[];
  /** Only these plugin folder names (default: all). */
  only?: string[];
  configure?: (config: Config) => void;
  /** Watch plugins/ and config/ for hot reload. */
  watch?: boolean;
  /** Runs before the first plugin loads (a session journal). */
  attach?: EngineOptions['attach'];
}

export class OfflineEngine {
  readonly replies: Reply[] = [];
  private constructor(
    readonly engine: Engine,
    readonly root: string,
  ) {
    // Replies as a client decodes them (typed integers unwrapped).
    engine.onReply = (_remote, address, args) => this.replies.push({ address, args: plainArgs(args) });
    engine.onBroadcast = (address, args) => this.replies.push({ address, args: plainArgs(args) });
  }

  /** A temp root with config/ and plugins/ (copies), and a started offline engine. Call close() after. */
  static async start(options: OfflineEngineOptions = {}): Promise<OfflineEngine> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-test-'));
    await writeTestConfig(root);
    await mkdir(path.join(root, 'plugins'));
    const sources = [options.pluginsFrom ?? path.join(PROJECT_ROOT, 'plugins')].flat();
    for (const dir of sources) {
      const { readdir } = await import('node:fs/promises');
      for (const name of await readdir(dir)) {
        if (options.only && !options.only.includes(name)) continue;
        await cp(path.join(dir, name), path.join(root, 'plugins', name), { recursive: true });
      }
    }
    const config = loadConfig({ root, env: {} });
    options.configure?.(config);
    const engine = await Engine.start({ config, root, backend: 'offline', listen: false, status: false, watch: options.watch ?? false, log: Logger.silent(), attach: options.attach });
    return new OfflineEngine(engine, root);
  }

  get host(): InProcessHost {
    return this.engine.audio as InProcessHost;
  }

  get sampleRate(): number {
    return this.host.sampleRate;
  }

  /** The frame the next rendered block starts at. */
  get frame(): number {
    return this.host.engine.frame;
  }

  /** Dispatch a message; `at` is an absolute frame (default: the next block). */
  async send(address: string, args: unknown[] = [], at?: number): Promise<void> {
    this.engine.dispatch({ address, args, remote: TEST_REMOTE, frame: at });
    await this.engine.settle();
  }

  /** Render `seconds` (or `frames`) of stereo audio. */
  render(seconds: number, frames = Math.round(seconds * this.sampleRate)): { l: Float32Array; r: Float32Array } {
    const l = new Float32Array(frames);
    const r = new Float32Array(frames);
    let done = 0;
    while (done < frames) {
      const n = Math.min(this.host.blockSize, frames - done);
      const out = this.host.render(n);
      l.set(out.l.subarray(0, n), done);
      r.set(out.r.subarray(0, n), done);
      done += n;
    }
    return { l, r };
  }

  /** Wait (bounded) until a reply or notice at `address` matching `match` has arrived. */
  async waitFor(address: string, match: (r: Reply) => boolean = () => true, timeoutMs = 10_000): Promise<Reply> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.replies.find((r) => r.address === address && match(r));
      if (found) return found;
      if (Date.now() > until) throw new Error(`no ${address} within ${timeoutMs} ms; got ${this.replies.map((r) => r.address).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  lastReply(address: string): Reply | undefined {
    return this.replies.filter((r) => r.address === address).at(-1);
  }

  async close(): Promise<void> {
    await this.engine.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}

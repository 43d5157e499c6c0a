/** What the session tests share: a live engine process with the recorder on, OSC helpers, replays and WAV comparison. */
import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import osc from 'osc';
import type { OscWriteArg } from 'osc';
import { OscClient, type OscReply } from '../../cli/osc-client.ts';
import type { OscSendArg } from '../../kernel/osc/osc-transport.ts';
import { readWav } from '../../plugin-sdk/wav-read.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT } from './offline-engine.ts';
import { makeRoot, startEngineProcess, type EngineProcess } from './engine-process.ts';

export const HOST = '127.0.0.1';

/** A temp root with the project's plugins, the tone and glitch fixtures, and the recorder on. */
export async function sessionRoot(): Promise<string> {
  const root = await makeRoot();
  for (const id of ['tone', 'glitch']) await cp(path.join(FIXTURE_PLUGINS, id), path.join(root, 'plugins', id), { recursive: true });
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ plugins: { recorder: { enabled: true } } }));
  return root;
}

export class Live {
  private constructor(
    readonly engine: EngineProcess,
    readonly client: OscClient,
  ) {}

  static async start(root: string): Promise<Live> {
    const engine = await startEngineProcess({ root });
    return new Live(engine, await OscClient.open());
  }

  /** Send and wait until the engine handled it (its /engine/pong); returns the replies it brought. */
  async send(address: string, ...args: OscSendArg[]): Promise<OscReply[]> {
    const { replies, ended } = await this.client.collect(HOST, this.engine.port, [{ address, args }, { address: '/engine/ping' }], { until: '/engine/pong', timeoutMs: 30_000 });
    if (!ended) throw new Error(`no /engine/pong after ${address}`);
    return replies;
  }

  /** A bundle timed `ms` from now (NTP time tag), of these messages. */
  bundle(ms: number, messages: { address: string; args: OscWriteArg[] }[]): void {
    const bytes = osc.writePacket(
      { timeTag: osc.timeTag(ms / 1000), packets: messages.map((m) => ({ address: m.address, args: m.args })) },
      { metadata: true },
    );
    this.client.sendRaw(HOST, this.engine.port, bytes);
  }

  /** Waits for a reply (an engine-wide notice) whose address and first args match. */
  waitFor(address: string, test: (r: OscReply) => boolean = () => true, timeoutMs = 30_000): Promise<OscReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${address} within ${timeoutMs} ms`)), timeoutMs);
      const poll = async () => {
        for (;;) {
          const r = await this.client.waitFor(HOST, this.engine.port, { replyAddress: address, timeoutMs }).catch(() => null);
          if (r && test(r)) {
            clearTimeout(timer);
            resolve(r);
            return;
          }
          if (!r) return;
        }
      };
      void poll();
    });
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.engine.stop();
  }
}

/** Run `chronus <args>` on `root`; resolves with its exit code and output. */
export function chronus(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/chronus.mjs'), ...args, '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function wavChannels(file: string): Promise<Float32Array[]> {
  return readWav(await readFile(file), { maxBytes: 2 ** 31 }).channels;
}

/** The first frame where `a` (from `offset`) and `b` differ, or -1 when the first `frames` are equal. */
export function firstDifference(a: Float32Array[], offset: number, b: Float32Array[], frames: number): number {
  for (let i = 0; i < frames; i++) for (let c = 0; c < 2; c++) if (a[c][offset + i] !== b[c][i] && !(Number.isNaN(a[c][offset + i]) && Number.isNaN(b[c][i]))) return i;
  return -1;
}

export function peak(x: Float32Array, from = 0, to = x.length): number {
  let p = 0;
  for (let i = from; i < to; i++) p = Math.max(p, Math.abs(x[i]));
  return p;
}

/**
 * OSC burst loss (issue "Containment …"): a real engine process on the null backend gets bursts of
 * small UDP packets (`/mod/voice1/freq f 440`, 28 bytes) sent as fast as one client can, and the
 * engine's own message count says how many arrived. What is lost is lost at the socket: the kernel
 * drops datagrams when the receive buffer is full while the control thread is busy decoding.
 *
 *   npm run bench -- osc-burst [--packets 10000] [--rounds 5] [--recv-buffer <bytes>]
 *
 * `--recv-buffer` sets `osc.recvBufferBytes` (0: the OS default, as before the engine sized it).
 * Without it the configured default is used. Nothing here is asserted.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OscClient } from '../cli/osc-client.ts';
import { makeRoot, startEngineProcess } from '../test/helpers/engine-process.ts';

const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
    'recv-buffer': { type: 'string' },
  },
});
const packets = Number(values.packets);
const rounds = Number(values.rounds);
const HOST = '127.0.0.1';

type Status = { messages: number; framesRendered: number; osc?: { recvBufferBytes?: number | null } };

const root = await makeRoot();
if (values['recv-buffer'] !== undefined) {
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ osc: { recvBufferBytes: Number(values['recv-buffer']) } }));
}
const engine = await startEngineProcess({ root });
const client = await OscClient.open();
let statusRequests = 0;
/** /engine/status; each answered request is itself one message the engine counted. */
async function status(): Promise<Status> {
  for (;;) {
    statusRequests++;
    try {
      return (await client.request(HOST, engine.port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 1000 })).json as Status;
    } catch {
      statusRequests--; // lost: not counted by the engine (or counted late; rare after a burst)
    }
  }
}

try {
  let s = await status();
  while (s.framesRendered === 0) s = await status();
  const granted = s.osc?.recvBufferBytes;
  process.stdout.write(
    `osc burst: ${packets} packets × ${rounds} rounds; receive buffer ${granted === undefined ? 'not reported (OS default)' : granted === null ? 'OS default' : `${granted} bytes granted`}\n`,
  );
  const lossPct: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const before = await status();
    statusRequests = 0;
    const t0 = performance.now();
    for (let i = 0; i < packets; i++) client.send(HOST, engine.port, '/mod/voice1/freq', [440]);
    const sendMs = performance.now() - t0;
    // Wait until the count stops moving (three answers in a row with nothing new but our own requests).
    let last = -1;
    let still = 0;
    let now = before;
    while (still < 3) {
      await new Promise((r) => setTimeout(r, 100));
      now = await status();
      const received = now.messages - before.messages - statusRequests;
      still = received === last ? still + 1 : 0;
      last = received;
    }
    const received = last;
    const lost = packets - received;
    lossPct.push((100 * lost) / packets);
    process.stdout.write(
      `  round ${round}: sent ${packets} in ${sendMs.toFixed(0)} ms, received ${received}, lost ${lost} (${((100 * lost) / packets).toFixed(1)} %)\n`,
    );
  }
  const sorted = [...lossPct].sort((a, b) => a - b);
  process.stdout.write(`  loss: min ${sorted[0].toFixed(1)} %, median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} %, max ${sorted.at(-1)!.toFixed(1)} %\n`);
} finally {
  await client.close();
  await engine.stop();
  await rm(root, { recursive: true, force: true });
}

/**
 * The `chronus` command: start | render | send | schema | docs | new-plugin. Errors print one clear message naming the
 * file and field, and exit non-zero.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../kernel/base/config.ts';
import { isChronusError } from '../kernel/base/errors.ts';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../kernel/package-root.ts';

const USAGE = `usage: chronus <command> [options]

  start                         run the engine (sound card, or the real-time null backend)
  render <score.json> -o <out.wav> [--seconds N] [--format int16|int24|float32]
                                render a score of timed OSC messages offline
  render --session <id|latest> -o <out.wav> [--from T] [--to T] [--format ...]
                                render a journaled live session again, sample for sample (T: seconds,
                                mm:ss, hh:mm:ss or a marker's label)
  sessions [list|prune]         the journaled sessions; prune removes the oldest beyond the caps
  send <address> [args...]      send one OSC message to a running engine and print every reply it
                                brings (exit 1 on /error, 3 when no engine answers)
  schema                        print every module and parameter as JSON
  docs [--check] [-o <file>]    write docs/modules.md from the schema; --check: exit 1 if it is out of date
  new-plugin <name> --role <source|effect|send|modulator|controller|sink>
                                scaffold plugins/<name>/ (plugin.json, index.ts, dsp.ts)
  version                       print the version and whether the prebuilt dist/ or tsx runs

options: --root <dir>     project folder with config/ and plugins/ (default: the package folder)
         --host, --port   the engine's OSC address for send (default: osc.host, osc.port of the config)
         --timeout <ms>   how long send waits for the engine (default 2000)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      root: { type: 'string' },
      out: { type: 'string', short: 'o' },
      seconds: { type: 'string' },
      format: { type: 'string' },
      session: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      timeout: { type: 'string' },
      check: { type: 'boolean' },
      role: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  if (command === 'version') {
    // bin/chronus.mjs says which it started: the prebuilt bundle or the TypeScript under tsx.
    const runtime = process.env.CHRONUS_RUNTIME === 'dist' ? 'prebuilt dist/' : 'TypeScript sources under tsx';
    process.stdout.write(`chronus ${PACKAGE_VERSION} (${runtime}, node ${process.version})\n`);
    return 0;
  }
  const root = path.resolve(values.root ?? PACKAGE_ROOT);
  const config = loadConfig({ root });
  // Each command's modules are loaded (and their top levels run) only when it runs: a render does not
  // set up the session journal, the supervisor or the OSC client (in dist/ they are in the one bundle,
  // initialised on first import).
  switch (command) {
    case 'start':
      return (await import('./start.ts')).startCommand(config, root);
    case 'render':
      return (await import('./render.ts')).renderCommand(config, rest, values);
    case 'sessions':
      return (await import('./sessions.ts')).sessionsCommand(config, rest);
    case 'send':
      return (await import('./send.ts')).sendCommand(config, rest, values);
    case 'schema':
      return (await import('./schema.ts')).schemaCommand(config);
    case 'docs':
      return (await import('./docs.ts')).docsCommand(root, { check: values.check, out: values.out });
    case 'new-plugin':
      return (await import('./new-plugin.ts')).newPluginCommand(root, config, rest, values.role);
    default:
      process.stderr.write(`chronus: unknown command '${command}'\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    const message = isChronusError(e) ? e.message : ((e as Error)?.message ?? String(e));
    process.stderr.write(`chronus: ${message}\n`);
    process.exitCode = 1;
  },
);

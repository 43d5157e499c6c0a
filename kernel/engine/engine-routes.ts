/** The `/engine/...` routes of OSC.md that the kernel itself answers. */
import { z } from 'zod';
import type { EngineServices } from './engine-services.ts';
import { engineStatus, type StatusSources } from '../status/engine-status.ts';
import { ErrorCode } from '../base/errors.ts';
import { RouteError } from '../osc/osc-router.ts';
import { formatSchema } from '../status/console-format.ts';
import { SCHEMA_FORMATS, schemaDocument, writeSchemaFiles } from '../params/schema-export.ts';

const none = z.tuple([]);

/** What the `/engine/...` routes use of the engine. */
export type EngineRoutesHost = Pick<EngineServices, keyof StatusSources | 'config' | 'registry' | 'plugins' | 'console' | 'onStop' | 'releaseAllGates'>;

export function mapEngineRoutes(engine: EngineRoutesHost): void {
  const { router } = engine;
  engine.control.scheduleHorizonSeconds = engine.config.engine.scheduleHorizonSeconds;

  router.mapRoute('/engine/status', (_args, ctx) => ctx.replyJson('/engine/status', engineStatus(engine)), {
    args: none,
    usage: [],
    description: 'reply /engine/status <json>: backend, stopped, frames, xruns, levels, gates, messages, block times (also printed on the engine console)',
  });

  router.mapRoute(
    '/engine/schema',
    async ([form], ctx) => {
      const schema = schemaDocument(engine);
      if (form === 'file') {
        const { stamped, latest } = await writeSchemaFiles(engine.config.paths.schemas, schema);
        ctx.reply('/engine/schema/file', stamped, latest);
        return;
      }
      // The old engine printed the schema on its console; chronusctl asks for "stdout" and reads it there.
      if (form === 'stdout') engine.console.print(formatSchema(schema));
      ctx.replyJson('/engine/schema', schema);
    },
    {
      args: z.tuple([z.enum(SCHEMA_FORMATS, { error: `expected one of ${SCHEMA_FORMATS.join(', ')}` }).optional()]).or(none),
      usage: ['[format]'],
      description:
        'reply /engine/schema <json> (every module and parameter); "stdout" also prints it on the engine console; "file" writes schemas/chronus_schema_<time>.json and schemas/chronus-schema.json, reply /engine/schema/file <file> <latest>',
    },
  );

  router.mapRoute(
    '/engine/list',
    (_args, ctx) => {
      const lines: string[] = [];
      for (const m of engine.registry.modules.values()) {
        const params = [...m.params.values()].map((p) => `${p.name}=${engine.registry.values[p.index]}`).join(' ');
        lines.push(`${m.id} [${m.pluginId}]${m.gate !== undefined ? ' gate' : ''}: ${params}`);
      }
      ctx.reply('/engine/list', lines.join('\n'));
    },
    { args: none, usage: [], description: 'reply /engine/list <text>: every module with its current parameter values (also printed on the engine console)' },
  );

  router.mapRoute(
    '/engine/ping',
    async (_args, ctx) => {
      // After every message before it has been handled and answered: a client that sends a message
      // and then /engine/ping has all the message's replies once /engine/pong arrives.
      await router.settledSoFar();
      ctx.reply('/engine/pong');
    },
    {
      args: none,
      usage: [],
      description: 'reply /engine/pong once every message received before it has been handled (its replies sent): is the engine there, and done? (chronus send uses it)',
    },
  );

  router.mapRoute('/engine/routes', (_args, ctx) => ctx.replyJson('/engine/routes', router.routes()), {
    args: none,
    usage: [],
    description: 'reply /engine/routes <json>: every address with its description',
  });

  router.mapRoute(
    '/engine/plugins',
    async (_args, ctx) => {
      const running = await engine.audio.call('plugins');
      const list = engine.plugins.all().map((p) => {
        const live = running.find((r) => r.pluginId === p.manifest.id);
        return {
          id: p.manifest.id,
          name: p.manifest.name,
          version: p.manifest.version,
          role: p.manifest.role,
          modules: p.modules,
          description: p.manifest.description,
          bypassed: live?.bypassed ?? false,
          faults: live?.faults ?? 0,
          /** Kept off the audio thread after it hung it (kernel/host/audio-recovery.ts): why and since when, or null. */
          quarantined: engine.plugins.quarantined.get(p.manifest.id) ?? null,
        };
      });
      ctx.replyJson('/engine/plugins', list);
    },
    { args: none, usage: [], description: 'reply /engine/plugins <json>: loaded plugins with version, role, modules and faults' },
  );

  router.mapRoute(
    '/engine/plugin/reset',
    async ([id], ctx) => {
      const known = engine.plugins.loaded.has(id) && (await engine.audio.call('resetPlugin', id));
      if (!known) throw new RouteError(ErrorCode.PLUGIN_UNKNOWN, `no plugin ${JSON.stringify(id)} is loaded; /engine/plugins lists them`);
      ctx.reply('/engine/plugin/reset', id);
    },
    {
      args: z.tuple([z.string({ error: 'expected a plugin id such as "delay"' }).min(1).max(64)]),
      usage: ['plugin_id'],
      description: 'a fresh instance of plugin <id> takes over (a bypassed one plays again), keeping its parameters and saved state; reply /engine/plugin/reset <id>',
    },
  );

  router.mapRoute(
    '/engine/start',
    async (_args, ctx) => {
      engine.control.setStopped(false);
      await engine.audio.call('broadcast', '/engine/start');
      ctx.reply('/engine/started');
    },
    { args: none, usage: [], description: 'start (resume) the engine after /engine/stop: the output fades back in and gates open again' },
  );

  router.mapRoute(
    '/engine/stop',
    async (_args, ctx) => {
      engine.control.clearScheduled();
      engine.releaseAllGates();
      engine.control.setStopped(true);
      await engine.audio.call('broadcast', '/engine/stop');
      for (const hook of engine.onStop) await hook();
      ctx.reply('/engine/stopped');
    },
    {
      args: none,
      usage: [],
      description:
        'stop: the output fades to silence and gates are ignored until /engine/start (the audio clock keeps running); drops what is scheduled ahead, releases every gate and tells every plugin (what plays stops, files being written are finished)',
    },
  );
}

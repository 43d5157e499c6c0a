/** The `/engine/...` routes of OSC.md that the kernel itself answers. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Engine } from './engine.ts';
import { engineStatus } from './engine-status.ts';
import { RouteError } from './osc-router.ts';

const none = z.tuple([]);
export const PLUGIN_UNKNOWN = 'PLUGIN_UNKNOWN';

export function mapEngineRoutes(engine: Engine): void {
  const { router } = engine;
  engine.control.scheduleHorizonSeconds = engine.config.engine.scheduleHorizonSeconds;

  router.mapRoute('/engine/status', (_args, ctx) => ctx.replyJson('/engine/status', engineStatus(engine)), {
    args: none,
    description: 'reply /engine/status <json>: backend, frames, xruns, levels, gates, messages, block times',
  });

  router.mapRoute(
    '/engine/schema',
    async ([form], ctx) => {
      const schema = engine.registry.toJSON(router.routes().map((r) => r.address));
      if (form === 'file') {
        const file = path.resolve(engine.config.paths.patterns, '..', 'chronus-schema.json');
        await writeFile(file, JSON.stringify(schema, null, 2));
        ctx.reply('/engine/schema/file', file);
      } else ctx.replyJson('/engine/schema', schema);
    },
    { args: z.tuple([z.enum(['json', 'file']).optional()]).or(none), description: 'reply /engine/schema <json> (every module and parameter); "file" writes chronus-schema.json' },
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
    { args: none, description: 'reply /engine/list <text>: every module with its current parameter values' },
  );

  router.mapRoute('/engine/routes', (_args, ctx) => ctx.replyJson('/engine/routes', router.routes()), {
    args: none,
    description: 'reply /engine/routes <json>: every address with its description',
  });

  router.mapRoute(
    '/engine/plugins',
    async (_args, ctx) => {
      const running = await engine.audio.call('plugins');
      const list = [...engine.plugins.loaded.values()].map((p) => {
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
          /** Kept off the audio thread after it hung it (kernel/audio-recovery.ts): why and since when, or null. */
          quarantined: engine.plugins.quarantined.get(p.manifest.id) ?? null,
        };
      });
      ctx.replyJson('/engine/plugins', list);
    },
    { args: none, description: 'reply /engine/plugins <json>: loaded plugins with version, role, modules and faults' },
  );

  router.mapRoute(
    '/engine/plugin/reset',
    async ([id], ctx) => {
      const known = engine.plugins.loaded.has(id) && (await engine.audio.call('resetPlugin', id));
      if (!known) throw new RouteError(PLUGIN_UNKNOWN, `no plugin ${JSON.stringify(id)} is loaded; /engine/plugins lists them`);
      ctx.reply('/engine/plugin/reset', id);
    },
    {
      args: z.tuple([z.string({ error: 'expected a plugin id such as "delay"' }).min(1).max(64)]),
      description: 'a fresh instance of plugin <id> takes over (a bypassed one plays again), keeping its parameters and saved state; reply /engine/plugin/reset <id>',
    },
  );

  router.mapRoute(
    '/engine/start',
    async (_args, ctx) => {
      await engine.audio.call('broadcast', '/engine/start');
      ctx.reply('/engine/started');
    },
    { args: none, description: 'start (resume) the engine' },
  );

  router.mapRoute(
    '/engine/stop',
    async (_args, ctx) => {
      engine.control.clearScheduled();
      engine.releaseAllGates();
      await engine.audio.call('broadcast', '/engine/stop');
      for (const hook of engine.onStop) await hook();
      ctx.reply('/engine/stopped');
    },
    { args: none, description: 'stop: drops what is scheduled ahead, releases every gate, stops the sequencer and ends a recording' },
  );
}

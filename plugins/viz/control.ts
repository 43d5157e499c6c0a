/**
 * The `viz` plugin: a control half only. Every `intervalMs` it sends the old engine's visualiser
 * feed to `host:port` (127.0.0.1:5006 by default):
 * - `/viz/levels <peak> …`: one float per metered module since the last send (voices first), reset
 *   as read; the master's two peaks when no plugin meters;
 * - `/viz/spectrum <b1> … <b8>`: eight bands of the last SPECTRUM_SIZE output samples
 *   (`spectrum`: `legacy`, what the old visualiser labels, or `raw`; plugin-sdk/analysis/spectrum.ts).
 *
 * Config `plugins.viz`: `enabled`, `host`, `port`, `intervalMs`, `spectrum` (a changed section takes
 * effect at once). Nothing is sent in an offline render.
 */
import { defineControl, spectrum, SPECTRUM_SIZE, z, type ControlContext } from 'plugin-sdk';

const VizConfig = z.looseObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(5006),
  intervalMs: z.number().int().min(10).max(60000).default(100),
  spectrum: z.enum(['legacy', 'raw']).default('legacy'),
});
type VizConfig = z.infer<typeof VizConfig>;

function readConfig(ctx: ControlContext, section: Readonly<Record<string, unknown>>): VizConfig {
  const parsed = VizConfig.safeParse(section);
  if (parsed.success) return parsed.data;
  ctx.log.error(`plugins.viz: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}; using the defaults`);
  return VizConfig.parse({});
}

export default defineControl({
  async create(ctx) {
    // An offline render has no visualiser watching.
    if (!ctx.realtime) return {};
    const socket = await ctx.udp(0);
    const output = new Float32Array(SPECTRUM_SIZE);
    const mono = new Float64Array(SPECTRUM_SIZE);
    let config = readConfig(ctx, ctx.config);
    let timer = 0;

    const levels = (): number[] => {
      const { plugins, master } = ctx.engine.levels();
      const peaks = plugins.flatMap((p) => p.peaks);
      return peaks.length > 0 ? peaks : [...master];
    };
    const send = (): void => {
      ctx.engine.recentOutput(output);
      mono.set(output);
      socket.sendOsc(config.port, config.host, '/viz/levels', ...levels());
      socket.sendOsc(config.port, config.host, '/viz/spectrum', ...spectrum(mono, ctx.sampleRate, config.spectrum));
    };
    const start = (): void => {
      ctx.timers.clear(timer);
      timer = ctx.timers.setInterval(send, config.intervalMs);
    };
    start();
    return {
      configChanged(section) {
        config = readConfig(ctx, section);
        start();
      },
    };
  },
});

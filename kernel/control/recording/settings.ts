/**
 * The recorder's settings as they are now (control thread). `plugins.recorder` in config/local.json
 * may change while the engine runs (the watcher hands the new config to the plugin host): the next
 * recording takes the new `format`, `tap`, `fadeMs`, `syncIntervalMs` … — one running keeps what it
 * started with. The audio half sizes its ring for its tap when it is created, so when the tap (or the
 * stem count) changed, `applyToPlugin` reloads the recorder plugin before the recording starts.
 */
import type { Engine } from '../engine.ts';
import { formatZodIssues } from '../../base/errors.ts';
import { RecorderConfigSchema, type RecorderConfig } from './config.ts';
import { MAX_STEM_VOICES, TAP_NAME, TapKind, W_TAP } from '../../../plugin-sdk/recorder-protocol.ts';

export const PLUGIN_ID = 'recorder';

export interface RecorderSettingsNow {
  config: RecorderConfig;
  /** Why the section was refused (recording is refused with this message), or null. */
  problem: string | null;
  enabled: boolean;
}

export class RecorderSettings {
  private cachedFor: unknown = undefined;
  private cached: RecorderSettingsNow | null = null;

  constructor(private readonly engine: Engine) {}

  /** The section now: the plugin host's (updated by config watching), else the start-up config's. */
  private section(): Record<string, unknown> | undefined {
    return this.engine.plugins.configOf(PLUGIN_ID) ?? this.engine.config.plugins[PLUGIN_ID];
  }

  current(): RecorderSettingsNow {
    const section = this.section();
    if (this.cached && this.cachedFor === section) return this.cached;
    const parsed = RecorderConfigSchema.safeParse(section ?? {});
    this.cachedFor = section;
    this.cached = parsed.success
      ? { config: parsed.data, problem: null, enabled: section?.enabled === true }
      : { config: RecorderConfigSchema.parse({}), problem: formatZodIssues(parsed.error, 'plugins.recorder', section).join('; '), enabled: section?.enabled === true };
    return this.cached;
  }

  /** How many stems the plugin records (`voices`, default engine.numVoices), written into the section it reads. */
  stemVoices(): number {
    const section = this.section();
    if (section && section.voices === undefined) section.voices = this.engine.config.engine.numVoices;
    const v = typeof section?.voices === 'number' ? section.voices : this.engine.config.engine.numVoices;
    return Math.min(MAX_STEM_VOICES, Math.max(1, Math.round(v)));
  }

  /**
   * Before a recording: when the loaded recorder plugin taps something else than the config now says
   * (tap or stem count changed while running), reload it so its ring matches. Returns what changed, or null.
   */
  async applyToPlugin(): Promise<string | null> {
    const { config, problem } = this.current();
    if (problem || !this.engine.plugins.loaded.has(PLUGIN_ID)) return null;
    const ring = this.engine.tap(TAP_NAME);
    if (!ring) return null;
    const voices = this.stemVoices();
    const have = Atomics.load(ring.header, W_TAP);
    const channels = config.tap === 'stems' ? 2 * (voices + 1) : 2;
    if (have === TapKind[config.tap] && ring.channels === channels) return null;
    const folder = this.engine.plugins.folderOf(PLUGIN_ID);
    if (!folder) return null;
    await this.engine.plugins.load(folder);
    const what = `tap ${config.tap}${config.tap === 'stems' ? ` (${voices} voices)` : ''}`;
    this.engine.log.info(`recorder: ${what} from the config takes effect for this recording (plugin reloaded)`);
    return what;
  }
}

/**
 * What the voices read of Music Chronus slot files (plugin-sdk/legacy.ts): each old `voice{n}`
 * section, its fields renamed to today's parameters.
 */
import type { LegacySlot } from 'plugin-sdk';

export const MUSIC_CHRONUS_VOICES: LegacySlot = {
  modules: {
    pattern: 'voice{n}',
    fields: {
      voice_id: { label: 'text' },
      freq: 'freq',
      amp: 'amp',
      filter_freq: 'filter/freq',
      filter_q: 'filter/q',
      reverb_send: 'send/reverb',
      delay_send: 'send/delay',
      adsr: { group: { attack: 'adsr/attack', decay: 'adsr/decay', sustain: 'adsr/sustain', release: 'adsr/release' } },
      waveform: 'osc/type',
      slide_time: 'slide_time',
    },
  },
};

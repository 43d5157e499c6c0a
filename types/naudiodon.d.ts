// The part of naudiodon 2.3.6 that Chronus uses (the package ships no types).
declare module 'naudiodon' {
  import type { Writable } from 'node:stream';

  export interface DeviceInfo {
    id: number;
    name: string;
    maxOutputChannels: number;
    defaultSampleRate: number;
    hostAPIName: string;
  }

  export interface OutOptions {
    channelCount: number;
    sampleFormat: number;
    sampleRate: number;
    deviceId?: number;
    closeOnError?: boolean;
    framesPerBuffer?: number;
    highwaterMark?: number;
    maxQueue?: number;
  }

  export interface AudioIOStream extends Writable {
    start(): void;
    quit(cb?: () => void): Promise<void>;
  }

  export function AudioIO(options: { outOptions: OutOptions }): AudioIOStream;
  export function getDevices(): DeviceInfo[];
  export const SampleFormatFloat32: number;
  const naudiodon: { AudioIO: typeof AudioIO; getDevices: typeof getDevices; SampleFormatFloat32: number };
  export default naudiodon;
}

/**
 * mDNS / DNS-SD announcements of control halves (`ctx.advertise`, control thread), with
 * bonjour-service. The library (and its multicast socket on UDP 5353) is loaded only when a plugin
 * asks; each announcement belongs to the version that made it and is withdrawn (goodbye packets)
 * when the version goes.
 */
import type { MdnsService } from '../../plugin-sdk/control.ts';
import { ChronusError, ErrorCode } from '../base/errors.ts';
import type { VersionResources } from './control-resources.ts';

/** DNS-SD service types are 1-15 letters, digits and dashes (RFC 6335). */
const SERVICE_TYPE = /^[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?$/i;

export async function advertise(pluginId: string, resources: VersionResources, service: MdnsService): Promise<{ stop(): Promise<void> }> {
  const { name, type, protocol = 'tcp', port, txt, interface: via } = service ?? ({} as MdnsService);
  if (typeof name !== 'string' || name.length === 0 || name.length > 63 || typeof type !== 'string' || !SERVICE_TYPE.test(type) || (protocol !== 'tcp' && protocol !== 'udp') || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ChronusError(ErrorCode.MDNS_FAILED, `plugin ${pluginId}: cannot advertise ${JSON.stringify({ name, type, protocol, port })}`, {
      hint: 'name: 1-63 characters; type: 1-15 letters, digits or dashes without the underscore (e.g. "oscjson"); protocol "tcp" or "udp"; port 1-65535.',
    });
  }
  const { Bonjour } = await import('bonjour-service');
  // On one interface: bound to every address (multicast arrives addressed to the group), sent and joined on that one.
  const bonjour = new Bonjour(typeof via === 'string' ? ({ interface: via, bind: '0.0.0.0' } as object) : {}, (e: unknown) => resources.report(e));
  const published = bonjour.publish({ name, type, protocol, port, txt: txt ? { ...txt } : undefined });
  published.on('error', (e: unknown) => resources.report(e));
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
    }));
  resources.onClose(stop);
  return { stop };
}

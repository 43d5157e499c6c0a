/**
 * Who may send OSC to the engine (control thread). Loopback senders always may. Beyond loopback
 * (`osc.host` not a loopback address) only the addresses and subnets of `osc.allow` may: every other
 * datagram is dropped by the transport before it is decoded, and counted. UDP senders can be
 * spoofed, so this is a fence against stray and reflected traffic on a trusted network, not
 * authentication.
 */
import net from 'node:net';

/** One `osc.allow` entry: an IPv4 or IPv6 address, or a subnet in CIDR form ("192.168.1.0/24"). */
export interface AllowEntry {
  address: string;
  family: 'ipv4' | 'ipv6';
  /** Prefix length; null for a single address. */
  prefix: number | null;
}

/** Parses an allow-list entry; null if it is neither an IP address nor a CIDR subnet. */
export function parseAllowEntry(entry: string): AllowEntry | null {
  const [address, prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined || address === undefined) return null;
  const version = net.isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family, prefix: null };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= (family === 'ipv4' ? 32 : 128) ? { address, family, prefix } : null;
}

/** 127.0.0.0/8, ::1, an IPv4-mapped loopback address, or "localhost". */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (a === '127.0.0.1' || a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

export class SenderAllowList {
  private readonly list = new net.BlockList();

  private constructor(readonly entries: readonly string[]) {}

  /** From validated config entries (kernel/base/config.ts checks each with parseAllowEntry). */
  static from(entries: readonly string[]): SenderAllowList {
    const allow = new SenderAllowList(entries);
    for (const text of entries) {
      const e = parseAllowEntry(text);
      if (!e) throw new Error(`osc.allow: ${JSON.stringify(text)} is neither an IP address nor a CIDR subnet`);
      if (e.prefix === null) allow.list.addAddress(e.address, e.family);
      else allow.list.addSubnet(e.address, e.prefix, e.family);
    }
    return allow;
  }

  /** True for loopback senders and those on the list (an IPv4-mapped IPv6 sender matches IPv4 entries). */
  allows(address: string): boolean {
    if (isLoopback(address)) return true;
    const version = net.isIP(address);
    if (version === 0) return false;
    try {
      return this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
    } catch {
      return false; // e.g. a zone id BlockList does not take: not on the list
    }
  }
}

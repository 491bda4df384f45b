import { InputError } from '@backstage/errors';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Options for {@link createOutboundPolicy}. */
export interface OutboundPolicyOptions {
  /** Host globs that may be contacted; when set, nothing else may. */
  allow?: string[];
  /** Host globs that may never be contacted. */
  deny?: string[];
  /** Backstage's own host[:port]s, which a registry must not point us back at. */
  ownHosts?: string[];
  /** Whether loopback addresses are allowed (local development and tests). */
  allowLoopback?: boolean;
  /** Resolves a host name to all of its addresses; defaults to DNS. */
  lookup?: (host: string) => Promise<string[]>;
}

// Cloud instance metadata endpoints hand out credentials; never reachable.
const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
]);

const metadataAddresses = new BlockList();
metadataAddresses.addAddress('169.254.169.254', 'ipv4');
metadataAddresses.addAddress('fd00:ec2::254', 'ipv6');

const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

// 0.0.0.0 and :: reach the local machine on most systems.
const unspecified = new BlockList();
unspecified.addSubnet('0.0.0.0', 8, 'ipv4');
unspecified.addAddress('::', 'ipv6');

async function defaultLookup(host: string): Promise<string[]> {
  const results = await dnsLookup(host, { all: true, verbatim: true });
  return results.map(result => result.address);
}

function normalizeHostname(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
  }
  // 'example.com.' is the same host as 'example.com'.
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function globToRegExp(glob: string): RegExp {
  const pattern = glob
    .toLowerCase()
    .split('*')
    .map(part => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`);
}

function effectivePort(url: URL): string {
  if (url.port) {
    return url.port;
  }
  return url.protocol === 'http:' ? '80' : '443';
}

function splitHostPort(entry: string): { host: string; port?: string } {
  const trimmed = entry.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(trimmed);
  if (bracketed) {
    return bracketed[2]
      ? { host: bracketed[1], port: bracketed[2] }
      : { host: bracketed[1] };
  }
  // A bare IPv6 address has several colons and no port.
  const withPort = /^([^:]+):([0-9]+)$/.exec(trimmed);
  if (withPort) {
    return { host: normalizeHostname(withPort[1]), port: withPort[2] };
  }
  return { host: normalizeHostname(trimmed) };
}

/** The reason an address is refused, or undefined when it is fine. */
function refusedAddress(
  address: string,
  allowLoopback: boolean,
): string | undefined {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (metadataAddresses.check(address, family)) {
    return `${address} is a cloud metadata address`;
  }
  if (linkLocal.check(address, family)) {
    return `${address} is a link-local address`;
  }
  if (unspecified.check(address, family)) {
    return `${address} is an unspecified address`;
  }
  if (!allowLoopback && loopback.check(address, family)) {
    return `${address} is a loopback address`;
  }
  return undefined;
}

/**
 * Creates the check run before every outbound registry request. It resolves
 * the host so names that point at internal addresses are refused too.
 * The connection resolves again, so this narrows but does not close DNS
 * rebinding; it is a policy check, not a network sandbox.
 */
export function createOutboundPolicy(
  options: OutboundPolicyOptions,
): (url: URL) => Promise<void> {
  const allow = options.allow?.map(globToRegExp);
  const deny = (options.deny ?? []).map(globToRegExp);
  const ownHosts = (options.ownHosts ?? []).map(splitHostPort);
  const allowLoopback = options.allowLoopback ?? false;
  const lookup = options.lookup ?? defaultLookup;

  const resolve = async (host: string): Promise<string[]> => {
    if (isIP(host)) {
      return [host];
    }
    try {
      return await lookup(host);
    } catch {
      return [];
    }
  };

  return async (url: URL) => {
    const host = normalizeHostname(url.hostname);
    const hostPort = `${host}:${effectivePort(url)}`;
    const refuse = (why: string) =>
      new InputError(`Refusing to contact ${url.host}: ${why}`);

    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw refuse(`${url.protocol} is not http(s)`);
    }
    if (!host) {
      throw refuse('the URL has no host');
    }
    if (METADATA_HOSTS.has(host)) {
      throw refuse('it is a cloud metadata host');
    }
    const matches = (pattern: RegExp) =>
      pattern.test(host) || pattern.test(hostPort);
    if (deny.some(matches)) {
      throw refuse('it is on the denylist');
    }
    if (allow && !allow.some(matches)) {
      throw refuse('it is not on the allowlist');
    }
    const port = effectivePort(url);
    for (const own of ownHosts) {
      if (own.host === host && (!own.port || own.port === port)) {
        throw refuse('it is Backstage itself');
      }
    }

    const addresses = await resolve(host);
    if (addresses.length === 0) {
      throw refuse('the host name does not resolve');
    }
    for (const address of addresses) {
      const why = refusedAddress(address, allowLoopback);
      if (why) {
        throw refuse(why);
      }
    }

    // A different name for Backstage (an alias or bare IP) is still Backstage.
    for (const own of ownHosts) {
      if (own.port && own.port !== port) {
        continue;
      }
      const ownAddresses = await resolve(own.host);
      const shared = addresses.find(address => ownAddresses.includes(address));
      if (shared) {
        throw refuse(`it resolves to ${shared}, which is Backstage itself`);
      }
    }
  };
}

import { InputError } from '@backstage/errors';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, LookupFunction } from 'node:net';

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

/** The code of the error a refused connection fails with. */
export const OUTBOUND_POLICY_REFUSED = 'ERR_OUTBOUND_POLICY_REFUSED';

/** The two halves of the outbound policy; see {@link createOutboundPolicy}. */
export interface OutboundPolicy {
  /**
   * Run before every request, redirects included: scheme, allow and deny
   * lists, Backstage itself, and every address the host resolves to.
   */
  check(url: URL): Promise<void>;
  /**
   * A `net.connect` lookup that resolves once and refuses the same address
   * classes, so the connection uses exactly the addresses it checked: a name
   * that resolves to a public address for {@link OutboundPolicy.check} and to
   * an internal one a moment later (DNS rebinding) is still refused.
   */
  lookup: LookupFunction;
}

/**
 * Creates the outbound policy for registries, repositories or clusters. It
 * resolves host names so names that point at internal addresses are refused
 * too, both before a request and when its connection is made.
 */
export function createOutboundPolicy(
  options: OutboundPolicyOptions,
): OutboundPolicy {
  const allow = options.allow?.map(globToRegExp);
  const deny = (options.deny ?? []).map(globToRegExp);
  const ownHosts = (options.ownHosts ?? []).map(splitHostPort);
  const allowLoopback = options.allowLoopback ?? false;
  const lookupHost = options.lookup ?? defaultLookup;

  const resolve = async (host: string): Promise<string[]> => {
    if (isIP(host)) {
      return [host];
    }
    try {
      return await lookupHost(host);
    } catch {
      return [];
    }
  };

  const check = async (url: URL) => {
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

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const host = normalizeHostname(hostname);
    // resolve() never rejects: a failed lookup is an empty list.
    void resolve(host).then(addresses => {
      if (addresses.length === 0) {
        callback(
          Object.assign(new Error(`${hostname} does not resolve`), {
            code: 'ENOTFOUND',
          }),
          '',
        );
        return;
      }
      for (const address of addresses) {
        const why = refusedAddress(address, allowLoopback);
        if (why) {
          callback(
            Object.assign(
              new Error(`Refusing to connect to ${hostname}: ${why}`),
              { code: OUTBOUND_POLICY_REFUSED },
            ),
            '',
          );
          return;
        }
      }
      const wanted = lookupOptions.family;
      const usable = addresses
        .map(address => ({ address, family: isIP(address) }))
        .filter(
          entry =>
            !wanted ||
            wanted === entry.family ||
            wanted === `IPv${entry.family}`,
        );
      if (lookupOptions.all) {
        callback(null, usable);
      } else if (usable.length > 0) {
        callback(null, usable[0].address, usable[0].family);
      } else {
        callback(
          Object.assign(new Error(`${hostname} has no IPv${wanted} address`), {
            code: 'ENOTFOUND',
          }),
          '',
        );
      }
    });
  };

  return { check, lookup };
}

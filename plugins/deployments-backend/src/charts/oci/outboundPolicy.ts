import { InputError } from '@backstage/errors';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  ADDRESS_CLASS_DESCRIPTIONS,
  AddressClass,
  AddressRange,
  canonicalAddress,
  classifyAddress,
  inRange,
  normalizeHost,
  parseAddressRange,
} from './networkAddress';

/** Options for {@link createOutboundPolicy}. */
export interface OutboundPolicyOptions {
  /**
   * What may be contacted; when set, nothing else may. Host globs
   * (`*.example.com`, `registry.internal:5000`) match the host name; IP
   * addresses and CIDRs (`10.1.0.0/16`) match the addresses it resolves to,
   * and also allow those addresses when their class is not allowed otherwise.
   */
  allow?: string[];
  /** Host globs, IP addresses and CIDRs that may never be contacted. */
  deny?: string[];
  /** Backstage's own host[:port]s, which must not be pointed back at. */
  ownHosts?: string[];
  /** Whether loopback addresses are allowed (local development and tests). */
  allowLoopback?: boolean;
  /**
   * Address classes allowed besides public addresses, without a CIDR in
   * `allow`. Metadata, link-local, unspecified, multicast and broadcast
   * addresses are never allowed.
   */
  allowedClasses?: AddressClass[];
  /** The configuration section named in refusals, e.g. `deployments.registries`. */
  configKey?: string;
  /** Resolves a host name to all of its addresses; defaults to DNS. */
  lookup?: (host: string) => Promise<string[]>;
  /** This machine's own addresses; defaults to its network interfaces. */
  localAddresses?: () => string[];
}

// Cloud instance metadata endpoints hand out credentials; never reachable.
const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
]);

/** Classes no configuration allows: they reach credentials or nothing real. */
const NEVER_ALLOWED = new Set<AddressClass>([
  'metadata',
  'link-local',
  'unspecified',
  'multicast',
  'broadcast',
]);

async function defaultLookup(host: string): Promise<string[]> {
  const results = await dnsLookup(host, { all: true, verbatim: true });
  return results.map(result => result.address);
}

function defaultLocalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap(entries => entries ?? [])
    .map(entry => entry.address);
}

function globToRegExp(glob: string): RegExp {
  const pattern = glob
    .toLowerCase()
    .split('*')
    .map(part => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`);
}

/** An allow or deny list: host globs, and addresses or CIDRs. */
interface HostList {
  globs: RegExp[];
  ranges: AddressRange[];
}

function readHostList(entries: string[]): HostList {
  const list: HostList = { globs: [], ranges: [] };
  for (const entry of entries) {
    const range = /^[0-9a-f.:\[\]/%x]+$/i.test(entry.trim())
      ? parseAddressRange(entry.replace(/^\[|\](?=\/|$)/g, ''))
      : undefined;
    if (range) {
      list.ranges.push(range);
    } else {
      list.globs.push(globToRegExp(normalizeHost(entry)));
    }
  }
  return list;
}

function effectivePort(url: URL): number {
  if (url.port) {
    return Number(url.port);
  }
  return url.protocol === 'http:' ? 80 : 443;
}

function splitHostPort(entry: string): { host: string; port?: number } {
  const trimmed = entry.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(trimmed);
  if (bracketed) {
    return {
      host: normalizeHost(bracketed[1]),
      port: bracketed[2] ? Number(bracketed[2]) : undefined,
    };
  }
  // A bare IPv6 address has several colons and no port.
  const withPort = /^([^:]+):([0-9]+)$/.exec(trimmed);
  if (withPort) {
    return { host: normalizeHost(withPort[1]), port: Number(withPort[2]) };
  }
  return { host: normalizeHost(trimmed) };
}

/** An address as resolved or written, and as it is reached. */
function shown(raw: string, address: string): string {
  const written = raw.toLowerCase().replace(/^\[|\]$/g, '');
  return written === address ? address : `${raw} (${address})`;
}

/** The code of the error a refused connection fails with. */
export const OUTBOUND_POLICY_REFUSED = 'ERR_OUTBOUND_POLICY_REFUSED';

/** The halves of the outbound policy; see {@link createOutboundPolicy}. */
export interface OutboundPolicy {
  /**
   * Run before every request, redirects included, and when a URL is stored:
   * scheme, allow and deny lists, Backstage itself, and every address the
   * host resolves to. With `unresolved: 'allow'`, a name that does not
   * resolve (yet) passes; it is checked again on every connection.
   */
  check(url: URL, options?: { unresolved?: 'allow' }): Promise<void>;
  /**
   * A `net.connect` lookup that resolves once and refuses the same address
   * classes, so the connection uses exactly the addresses it checked: a name
   * that resolves to a public address for {@link OutboundPolicy.check} and to
   * an internal one a moment later (DNS rebinding) is still refused.
   */
  lookup: LookupFunction;
  /**
   * {@link OutboundPolicy.lookup} for connections to one port, which also
   * refuses addresses that reach Backstage itself on that port.
   */
  lookupFor(port: number): LookupFunction;
  /**
   * Checks the address and port a connection actually reached, once made:
   * the reason it is refused, or undefined.
   */
  checkConnection(address: string, port: number): Promise<string | undefined>;
}

/**
 * Creates the outbound policy for registries, repositories or clusters.
 * Every address, written or resolved, is first brought to the one form it is
 * reached by (`[::ffff:127.0.0.1]`, `2130706433` and `0x7f.1` are all
 * 127.0.0.1), then classified: public addresses pass, other classes only as
 * configured, metadata and link-local addresses never, and Backstage itself
 * never. Host names are resolved so names pointing at internal addresses are
 * refused too, both before a request and when its connection is made.
 */
export function createOutboundPolicy(
  options: OutboundPolicyOptions,
): OutboundPolicy {
  const allow = options.allow ? readHostList(options.allow) : undefined;
  const deny = readHostList(options.deny ?? []);
  const ownHosts = (options.ownHosts ?? []).map(splitHostPort);
  const allowLoopback = options.allowLoopback ?? false;
  const allowedClasses = new Set<AddressClass>([
    'public',
    ...(options.allowedClasses ?? []),
    ...(allowLoopback ? (['loopback'] as const) : []),
  ]);
  const configKey = options.configKey ?? 'deployments.registries';
  const lookupHost = options.lookup ?? defaultLookup;
  const localAddresses = options.localAddresses ?? defaultLocalAddresses;

  /** Resolved addresses, each as written and as reached. */
  const resolve = async (
    host: string,
  ): Promise<{ raw: string; address: string }[]> => {
    const literal = canonicalAddress(host);
    if (literal) {
      return [{ raw: host, address: literal }];
    }
    let found: string[];
    try {
      found = await lookupHost(host);
    } catch {
      return [];
    }
    return found.flatMap(raw => {
      const address = canonicalAddress(raw);
      return address ? [{ raw, address }] : [];
    });
  };

  const nameMatches = (list: HostList, host: string, port?: number) =>
    list.globs.some(
      glob =>
        glob.test(host) || (port !== undefined && glob.test(`${host}:${port}`)),
    );

  /** Why an address may not be contacted, whatever name led to it. */
  const addressProblem = (raw: string, address: string): string | undefined => {
    const what = shown(raw, address);
    if (deny.ranges.some(range => inRange(address, range))) {
      return `${what} is on the denylist (${configKey}.deny)`;
    }
    const kind = classifyAddress(address);
    const description = ADDRESS_CLASS_DESCRIPTIONS[kind];
    if (NEVER_ALLOWED.has(kind)) {
      return `${what} is ${description}, which is never contacted`;
    }
    if (
      allowedClasses.has(kind) ||
      allow?.ranges.some(range => inRange(address, range))
    ) {
      return undefined;
    }
    const how =
      kind === 'loopback'
        ? `set ${configKey}.allowLoopback or list it in ${configKey}.allow`
        : `list it or a CIDR containing it in ${configKey}.allow`;
    return `${what} is ${description}; to allow it, ${how}`;
  };

  /** Whether an address and port reach this Backstage. */
  const isOwn = async (address: string, port: number): Promise<boolean> => {
    for (const own of ownHosts) {
      if (own.port !== undefined && own.port !== port) {
        continue;
      }
      const ownAddresses = (await resolve(own.host)).map(a => a.address);
      if (ownAddresses.includes(address)) {
        return true;
      }
      // Backstage listens on this machine: on its port, any loopback or
      // local interface address reaches it.
      if (own.port !== undefined) {
        const kind = classifyAddress(address);
        if (kind === 'loopback' || kind === 'unspecified') {
          return true;
        }
        const local = localAddresses().map(a => canonicalAddress(a));
        if (local.includes(address)) {
          return true;
        }
      }
    }
    return false;
  };

  const check = async (url: URL, checkOptions?: { unresolved?: 'allow' }) => {
    const host = normalizeHost(url.hostname);
    const port = effectivePort(url);
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
    if (nameMatches(deny, host, port)) {
      throw refuse(`it is on the denylist (${configKey}.deny)`);
    }
    const allowedByName = allow ? nameMatches(allow, host, port) : true;
    const notAllowed = () =>
      refuse(`it is not on the allowlist (${configKey}.allow)`);
    if (!allowedByName && allow!.ranges.length === 0) {
      throw notAllowed();
    }
    // A host name may not name Backstage, whatever it resolves to.
    for (const own of ownHosts) {
      if (own.host === host && (own.port === undefined || own.port === port)) {
        throw refuse('it is Backstage itself');
      }
    }

    const literal = canonicalAddress(url.hostname);
    const addresses = literal
      ? [{ raw: url.hostname.replace(/^\[|\]$/g, ''), address: literal }]
      : await resolve(host);
    if (addresses.length === 0) {
      if (checkOptions?.unresolved === 'allow' && allowedByName) {
        return;
      }
      throw refuse('the host name does not resolve');
    }
    if (
      !allowedByName &&
      !addresses.every(({ address }) =>
        allow!.ranges.some(range => inRange(address, range)),
      )
    ) {
      throw notAllowed();
    }
    const problems = addresses.flatMap(({ raw, address }) => {
      const why = addressProblem(raw, address);
      return why ? [why] : [];
    });
    if (problems.length > 0) {
      // The worst first: an address nothing allows says more than one that
      // configuration could.
      throw refuse(
        problems.find(why => why.endsWith('never contacted')) ?? problems[0],
      );
    }
    // A different name for Backstage (an alias or an address) is still Backstage.
    for (const { raw, address } of addresses) {
      if (await isOwn(address, port)) {
        throw refuse(
          literal
            ? `${shown(raw, address)} on port ${port} is Backstage itself`
            : `it resolves to ${address}, which is Backstage itself`,
        );
      }
    }
  };

  const refusedError = (hostname: string, why: string) =>
    Object.assign(new Error(`Refusing to connect to ${hostname}: ${why}`), {
      code: OUTBOUND_POLICY_REFUSED,
    });

  const makeLookup =
    (port?: number): LookupFunction =>
    (hostname, lookupOptions, callback) => {
      const host = normalizeHost(hostname);
      const allowedByName = allow ? nameMatches(allow, host) : true;
      // resolve() never rejects: a failed lookup is an empty list.
      void resolve(host).then(async addresses => {
        if (addresses.length === 0) {
          callback(
            Object.assign(new Error(`${hostname} does not resolve`), {
              code: 'ENOTFOUND',
            }),
            '',
          );
          return;
        }
        for (const { raw, address } of addresses) {
          const why =
            addressProblem(raw, address) ??
            (allowedByName ||
            allow!.ranges.some(range => inRange(address, range))
              ? undefined
              : `${address} is not on the allowlist (${configKey}.allow)`);
          if (why) {
            callback(refusedError(hostname, why), '');
            return;
          }
        }
        if (port !== undefined) {
          for (const { raw, address } of addresses) {
            if (await isOwn(address, port)) {
              callback(
                refusedError(
                  hostname,
                  `${shown(raw, address)} on port ${port} is Backstage itself`,
                ),
                '',
              );
              return;
            }
          }
        }
        // Connect to the address as classified, never to another spelling.
        const wanted = lookupOptions.family;
        const usable = addresses
          .map(({ address }) => ({ address, family: isIP(address) }))
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
            Object.assign(
              new Error(`${hostname} has no IPv${wanted} address`),
              {
                code: 'ENOTFOUND',
              },
            ),
            '',
          );
        }
      });
    };

  const lookup = makeLookup();

  const checkConnection = async (raw: string, port: number) => {
    const address = canonicalAddress(raw);
    if (!address) {
      return `${raw} is not an IP address`;
    }
    const why = addressProblem(raw, address);
    if (why) {
      return why;
    }
    if (await isOwn(address, port)) {
      return `${shown(raw, address)} on port ${port} is Backstage itself`;
    }
    return undefined;
  };

  return { check, lookup, lookupFor: makeLookup, checkConnection };
}

import { Config } from '@backstage/config';
import {
  classifyAddress,
  canonicalAddress,
  normalizeHost,
} from './networkAddress';
import { createOutboundPolicy, OutboundPolicy } from './outboundPolicy';

/** The outbound policies of registries and of targets' API servers. */
export interface OutboundPolicies {
  registries: OutboundPolicy;
  /** Whether a registry host[:port] may be reached over plain http. */
  allowPlainHttp: (host: string) => boolean;
  targets: OutboundPolicy;
}

/** The port the backend listens on, read as Backstage reads `backend.listen`. */
function listenPort(config: Config): number {
  const listen = config.getOptional('backend.listen');
  if (typeof listen === 'string' || typeof listen === 'number') {
    const port = Number(String(listen).split(':').pop());
    return Number.isInteger(port) ? port : 7007;
  }
  return config.getOptionalNumber('backend.listen.port') ?? 7007;
}

/**
 * Reads `deployments.registries` and `deployments.targets` into outbound
 * policies. Backstage itself is every name it is known by: the base URL,
 * the address discovery gives for this plugin, and this machine on the
 * port the backend listens on.
 */
export function outboundPoliciesFromConfig(options: {
  config: Config;
  /** The plugin's own base URL, from discovery. */
  ownBaseUrl?: string;
}): OutboundPolicies {
  const { config } = options;
  const ownHosts = [
    new URL(
      config.getOptionalString('backend.baseUrl') ?? 'http://localhost:7007',
    ).host,
    `localhost:${listenPort(config)}`,
    ...(options.ownBaseUrl ? [new URL(options.ownBaseUrl).host] : []),
  ];

  const registries = config.getOptionalConfig('deployments.registries');
  const plainHttpHosts =
    registries?.getOptionalStringArray('plainHttpHosts') ?? [];
  const registriesAllowLoopback =
    registries?.getOptionalBoolean('allowLoopback') ?? false;

  const targets = config.getOptionalConfig('deployments.targets');

  return {
    registries: createOutboundPolicy({
      allow: registries?.getOptionalStringArray('allow'),
      deny: registries?.getOptionalStringArray('deny'),
      allowLoopback: registriesAllowLoopback,
      ownHosts,
      configKey: 'deployments.registries',
    }),
    // Plain http only for loopback registries (when loopback is allowed at
    // all), in any spelling, or hosts configuration explicitly marks insecure.
    allowPlainHttp: host => {
      if (plainHttpHosts.includes(host)) {
        return true;
      }
      const name = normalizeHost(
        host.replace(/^(\[[^\]]*\]|[^:]*):\d+$/, '$1'),
      );
      const address = canonicalAddress(name);
      return (
        registriesAllowLoopback &&
        (name === 'localhost' ||
          (address !== undefined && classifyAddress(address) === 'loopback'))
      );
    },
    // Clusters live on private networks and, in development, on loopback;
    // link-local and metadata addresses never host one. The kube client makes
    // its own connections, so targets are checked before each use.
    targets: createOutboundPolicy({
      allow: targets?.getOptionalStringArray('allow'),
      deny: targets?.getOptionalStringArray('deny'),
      allowLoopback: targets?.getOptionalBoolean('allowLoopback') ?? true,
      allowedClasses:
        targets?.getOptionalBoolean('allowPrivate') === false
          ? []
          : ['private', 'carrier-grade-nat'],
      ownHosts,
      configKey: 'deployments.targets',
    }),
  };
}

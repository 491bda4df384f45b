import { InputError } from '@backstage/errors';
import { X509Certificate } from 'node:crypto';

import { ClusterAccess } from './clusterTypes';
import { DEFAULT_TIMEOUT_MS } from './clusterTransport';

export function checkTimeout(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) {
    return DEFAULT_TIMEOUT_MS;
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new InputError('timeoutMs must be a positive number');
  }
  return timeoutMs;
}

/** Returns the server URL without a trailing slash. The URL is never echoed: it may hold a password. */
export function checkServer(access: ClusterAccess): string {
  let url: URL;
  try {
    url = new URL(access.server);
  } catch {
    throw new InputError('server is not a valid URL');
  }
  if (url.protocol === 'http:') {
    if (access.insecureSkipTlsVerify !== true) {
      throw new InputError(
        'server must be an https:// URL; http:// is only accepted with insecureSkipTlsVerify',
      );
    }
  } else if (url.protocol !== 'https:') {
    throw new InputError('server must be an https:// URL');
  }
  if (url.username || url.password) {
    throw new InputError('server must not contain a user name or password');
  }
  if (!url.hostname || url.search || url.hash || /\s/.test(access.server)) {
    throw new InputError(
      'server must be a plain URL with a host and no query or fragment',
    );
  }
  return access.server.replace(/\/+$/, '');
}

export function checkTls(access: ClusterAccess): void {
  if (access.insecureSkipTlsVerify === true && access.caData !== undefined) {
    // client-go refuses this combination too: it is unclear which one was meant.
    throw new InputError(
      'insecureSkipTlsVerify cannot be combined with caData',
    );
  }
  if (access.caData !== undefined) {
    const certificates = access.caData.match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    );
    if (!certificates) {
      throw new InputError('caData is not a PEM certificate bundle');
    }
    for (const certificate of certificates) {
      try {
        // eslint-disable-next-line no-new
        new X509Certificate(certificate);
      } catch {
        throw new InputError('caData contains an invalid certificate');
      }
    }
  }
  if (
    access.tlsServerName !== undefined &&
    !/^[A-Za-z0-9.:-]{1,253}$/.test(access.tlsServerName)
  ) {
    throw new InputError('tlsServerName is not a host name');
  }
}

export function checkImpersonation(
  impersonate: ClusterAccess['impersonate'],
): { user: string; groups: string[] } | undefined {
  if (impersonate === undefined) {
    return undefined;
  }
  const { user, groups = [] } = impersonate;
  const printable = (value: unknown) =>
    typeof value === 'string' && /^[\x20-\x7e]+$/.test(value);
  if (user === undefined) {
    if (groups.length > 0) {
      // Kubernetes refuses group impersonation without a user, so fail here rather than on every request.
      throw new InputError('impersonate.groups requires impersonate.user');
    }
    return undefined;
  }
  if (!printable(user)) {
    throw new InputError('impersonate.user must be non-empty printable text');
  }
  if (!Array.isArray(groups) || !groups.every(printable)) {
    throw new InputError(
      'impersonate.groups must be a list of non-empty printable names',
    );
  }
  return { user, groups: [...groups] };
}

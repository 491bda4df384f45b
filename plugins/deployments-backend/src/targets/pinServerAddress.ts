import { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import {
  ClusterAccess,
  ClusterRequestError,
} from '../cluster/ClusterConnection';

/**
 * helm resolves the API server's name by itself, after the outbound policy
 * checked it: a name that resolves to an allowed address for the check and
 * to an internal one a moment later (DNS rebinding) would take the
 * credential there. So the access handed out names the address the policy's
 * lookup resolved and checked, and keeps the name for TLS (SNI and
 * certificate verification, `tls-server-name`), exactly as the backend's own
 * API client connects through that lookup.
 *
 * An address literal, or a server without a name the policy resolves, is
 * returned unchanged.
 *
 * @throws ClusterRequestError when the name does not resolve or the policy refuses what it resolves to
 */
export async function pinServerAddress(
  access: ClusterAccess,
  lookupFor: (port: number) => LookupFunction,
): Promise<ClusterAccess> {
  const url = new URL(access.server);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0) {
    return access;
  }
  const port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
  const address = await new Promise<string>((resolve, reject) =>
    lookupFor(port)(host, {}, (error, resolved) => {
      if (error) {
        reject(error);
      } else {
        resolve(String(resolved));
      }
    }),
  ).catch(error => {
    throw new ClusterRequestError(
      `cannot reach ${access.server}: ${(error as Error).message}`,
      'unreachable',
    );
  });
  const pinned = new URL(access.server);
  pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
  let server = pinned.toString();
  // URL adds a '/' to an empty path; keep the server as it was written.
  if (!access.server.endsWith('/') && server.endsWith('/')) {
    server = server.slice(0, -1);
  }
  return { ...access, server, tlsServerName: access.tlsServerName ?? host };
}

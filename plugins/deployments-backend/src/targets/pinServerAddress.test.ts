/*
 * helm resolves an API server's name by itself. Pinning hands it the address
 * the outbound policy checked, with the name kept for TLS: proven with the
 * real helm and API client against the local stack, through a name only the
 * policy's resolver knows (`kubernetes.default`, which the API server's
 * certificate names).
 */
import { mockServices } from '@backstage/backend-test-utils';
import { CoreV1Api } from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutboundPolicy } from '../charts/oci/outboundPolicy';
import {
  ClusterAccess,
  ClusterConnection,
  ClusterRequestError,
} from '../cluster/ClusterConnection';
import { HelmRunner } from '../helm';
import { adminAccess } from '../__testUtils__/clusterAccess';
import { requireLocalStack } from '../__testUtils__/localStack';
import { pinServerAddress } from './pinServerAddress';

jest.setTimeout(120_000);

const stack = requireLocalStack();

/** A resolver that knows some names; the rest do not resolve. */
function policyResolving(names: Record<string, string[]>) {
  return createOutboundPolicy({
    configKey: 'deployments.targets',
    allowLoopback: true,
    lookup: async host => names[host] ?? [],
  });
}

function named(access: ClusterAccess, host: string): ClusterAccess {
  const url = new URL(access.server);
  return { ...access, server: `https://${host}:${url.port}` };
}

describe('pinServerAddress', () => {
  const admin = adminAccess(stack);
  const port = new URL(admin.server).port;

  it('names the checked address and keeps the name for TLS', async () => {
    const policy = policyResolving({ 'kubernetes.default': ['127.0.0.1'] });
    const pinned = await pinServerAddress(
      named(admin, 'kubernetes.default'),
      p => policy.lookupFor(p),
    );
    expect(pinned.server).toBe(`https://127.0.0.1:${port}`);
    expect(pinned.tlsServerName).toBe('kubernetes.default');
    expect(pinned.credentials).toEqual(admin.credentials);
  });

  it('keeps paths, IPv6 brackets, a tlsServerName already set, and address literals as they are', async () => {
    const policy = policyResolving({ 'api.example.test': ['::1'] });
    const pinned = await pinServerAddress(
      {
        ...admin,
        server: 'https://api.example.test:6443/k8s/clusters/c-1',
        tlsServerName: 'kubernetes',
      },
      p => policy.lookupFor(p),
    );
    expect(pinned.server).toBe('https://[::1]:6443/k8s/clusters/c-1');
    expect(pinned.tlsServerName).toBe('kubernetes');
    expect(await pinServerAddress(admin, p => policy.lookupFor(p))).toBe(admin);
  });

  it('refuses a name that resolves to an address the policy refuses, or does not resolve', async () => {
    const policy = policyResolving({
      'metadata.example.test': ['169.254.169.254'],
    });
    const refused = pinServerAddress(named(admin, 'metadata.example.test'), p =>
      policy.lookupFor(p),
    );
    await expect(refused).rejects.toBeInstanceOf(ClusterRequestError);
    await expect(refused).rejects.toThrow(
      /^cannot reach https:\/\/metadata\.example\.test:\d+: Refusing to connect to metadata\.example\.test: .*169\.254\.169\.254/,
    );
    await expect(
      pinServerAddress(named(admin, 'gone.example.test'), p =>
        policy.lookupFor(p),
      ),
    ).rejects.toThrow(/gone\.example\.test does not resolve/);
  });

  it('lets the real helm and API client reach the checked address, verifying TLS against the name', async () => {
    const policy = policyResolving({ 'kubernetes.default': ['127.0.0.1'] });
    const byName = named(admin, 'kubernetes.default');
    const pinned = await pinServerAddress(byName, p => policy.lookupFor(p));
    const helm = await HelmRunner.create({
      logger: mockServices.logger.mock(),
      workRoot: mkdtempSync(join(tmpdir(), 'kd-pin-')),
    });
    const target = {
      namespace: 'team-a',
      releaseName: 't-pin-none',
    };

    // helm given the name resolves it itself (and here finds nothing)...
    await expect(helm.history({ ...target, access: byName })).rejects.toThrow(
      /kubernetes\.default/,
    );
    // ...given the pinned access it goes to the checked address, and TLS
    // verifies the certificate against the name.
    await expect(helm.history({ ...target, access: pinned })).resolves.toEqual(
      [],
    );
    const core = ClusterConnection.fromAccess(pinned).makeApiClient(CoreV1Api);
    await expect(core.readNamespace({ name: 'team-a' })).resolves.toMatchObject(
      { metadata: { name: 'team-a' } },
    );

    // The name is still what TLS checks: a name the certificate does not
    // carry fails, even at the right address.
    const wrongName = { ...pinned, tlsServerName: 'not-in-the-cert.test' };
    await expect(
      helm.history({ ...target, access: wrongName }),
    ).rejects.toThrow(/certificate/);
  });
});

/*
 * The backend's own connections to an API server go through the target
 * outbound policy's resolver, so a name that changes its answer between the
 * check and the connection (DNS rebinding) is still refused.
 */
import { createOutboundPolicy } from '../charts/oci/outboundPolicy';
import { requireLocalStack } from '../__testUtils__/localStack';
import { ClusterConnection } from './ClusterConnection';

jest.setTimeout(60_000);

const stack = requireLocalStack();
const port = Number(new URL(stack.apiServerUrl).port);

let count = 0;

function connect(answer: string[], ownHosts: string[] = []) {
  // A name of its own: connections are pooled per server, and each test
  // needs a new one.
  const name = `cluster${++count}.test`;
  const policy = createOutboundPolicy({
    allowLoopback: true,
    allowedClasses: ['private', 'carrier-grade-nat'],
    ownHosts,
    configKey: 'deployments.targets',
    // The name exists only here: reaching the cluster proves the connection
    // used this resolver.
    lookup: async host => {
      if (host !== name) {
        throw new Error(`ENOTFOUND ${host}`);
      }
      return answer;
    },
  });
  return ClusterConnection.fromAccess(
    {
      server: `https://${name}:${port}`,
      caData: stack.caPem,
      tlsServerName: 'kubernetes.default',
      credentials: { kind: 'token', token: stack.limitedToken },
    },
    { connectLookup: p => policy.lookupFor(p) },
  );
}

describe('ClusterConnection with the outbound policy', () => {
  it('connects to the address the policy resolved', async () => {
    await expect(connect(['127.0.0.1']).getVersion()).resolves.toMatchObject({
      gitVersion: expect.stringMatching(/^v1\./),
    });
  });

  it.each([
    [
      ['::ffff:169.254.169.254'],
      /::ffff:169\.254\.169\.254 \(169\.254\.169\.254\) is a cloud metadata address/,
    ],
    [['fe80::1'], /fe80::1 is a link-local address/],
    [['127.0.0.1', '0.0.0.0'], /0\.0\.0\.0 is an unspecified address/],
  ])(
    'refuses a name resolving to %p at connect time',
    async (answer, message) => {
      const attempt = connect(answer).getVersion();
      await expect(attempt).rejects.toMatchObject({ kind: 'unreachable' });
      await expect(attempt).rejects.toThrow(message);
      await expect(attempt).rejects.toThrow(
        /Refusing to connect to cluster\d+\.test/,
      );
    },
  );

  it('refuses a name resolving to Backstage on its own port', async () => {
    const attempt = connect(
      ['::ffff:127.0.0.1'],
      [`localhost:${port}`],
    ).getVersion();
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `::ffff:127\\.0\\.0\\.1 \\(127\\.0\\.0\\.1\\) on port ${port} is Backstage itself`,
      ),
    );
  });
});

/*
 * API server addresses are checked when a target is stored: clusters on
 * private networks and loopback are fine by default, metadata, link-local
 * and Backstage itself never, in any spelling.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();

async function backend(deployments: object) {
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({
        knex: await databases.init('SQLITE_3'),
      }),
      mockServices.rootConfig.factory({ data: { deployments } }),
    ],
  });
  await request(server)
    .post('/api/deployments/keyring/bootstrap')
    .send({ passphrase: 'Target addresses keyring 2026!' })
    .expect(201);
  let count = 0;
  const create = (apiServerUrl: string) =>
    request(server)
      .post('/api/deployments/targets')
      .send({
        name: `t${++count}`,
        apiServerUrl,
        caData: stack.caPem,
        allowedNamespaces: ['team-a'],
        credentials: { authKind: 'token', token: stack.limitedToken },
      });
  return { create, port: (server.address() as AddressInfo).port };
}

describe('target API server addresses', () => {
  it('refuses metadata, link-local and Backstage itself when stored; allows private networks and loopback', async () => {
    const { create, port } = await backend({});
    for (const [url, message] of [
      ['https://169.254.169.254:6443', /cloud metadata address/],
      ['https://[::ffff:a9fe:a9fe]:6443', /cloud metadata address/],
      ['https://2852039166:6443', /cloud metadata address/],
      ['https://[fe80::1]:6443', /link-local address, which is never/],
      ['https://0.0.0.0:6443', /unspecified/],
      [`https://[::ffff:127.0.0.1]:${port}`, /Backstage itself/],
      [`https://localhost:${port}`, /Backstage itself/],
      [
        'https://192.0.2.10:6443',
        /documentation address; to allow it, list it or a CIDR containing it in deployments\.targets\.allow/,
      ],
    ] as const) {
      const response = await create(url);
      expect({ url, status: response.status }).toEqual({ url, status: 400 });
      expect(response.body.error.message).toMatch(message);
    }
    for (const url of [
      stack.apiServerUrl,
      'https://10.20.30.40:6443',
      'https://[::ffff:172.16.0.9]:6443',
      'https://100.64.3.4:6443',
      'https://[fd00::10]:6443',
      // Not resolvable from here (yet): checked again on every connection.
      'https://cluster.invalid:6443',
    ]) {
      const response = await create(url);
      expect({ url, status: response.status }).toEqual({ url, status: 201 });
    }
  });

  it('follows deployments.targets: private ranges and loopback can be closed, ranges denied', async () => {
    const { create } = await backend({
      targets: {
        allowPrivate: false,
        allowLoopback: false,
        allow: ['*', '10.1.0.0/16'],
        deny: ['10.1.99.0/24'],
      },
    });
    for (const [url, message] of [
      [
        stack.apiServerUrl,
        /loopback address; to allow it, set deployments\.targets\.allowLoopback/,
      ],
      ['https://[::ffff:192.168.0.1]:6443', /private address/],
      [
        'https://10.1.99.1:6443',
        /10\.1\.99\.1 is on the denylist \(deployments\.targets\.deny\)/,
      ],
    ] as const) {
      const response = await create(url);
      expect({ url, status: response.status }).toEqual({ url, status: 400 });
      expect(response.body.error.message).toMatch(message);
    }
    const allowed = await create('https://10.1.2.3:6443');
    expect(allowed.status).toBe(201);
  });
});

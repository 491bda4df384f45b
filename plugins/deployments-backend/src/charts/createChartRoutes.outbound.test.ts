/*
 * Hostile registry and API server addresses through the HTTP API: every
 * spelling of Backstage's own address and port, of loopback, private and
 * metadata addresses is refused with 400 before anything is contacted, while
 * the local stack's registry, spelled any way, still works when loopback is
 * allowed.
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
// The stack's registry listens on 127.0.0.1; only its port matters here.
const registryPort = stack.registry.split(':').pop();

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
  return {
    server,
    port: (server.address() as AddressInfo).port,
  };
}

describe('outbound addresses through the HTTP API', () => {
  it('refuses Backstage itself in every spelling, with loopback allowed', async () => {
    const { server, port } = await backend({
      registries: { allowLoopback: true },
    });
    for (const host of [
      `[::ffff:127.0.0.1]:${port}`,
      `[::ffff:7f00:1]:${port}`,
      `[0:0:0:0:0:ffff:7f00:1]:${port}`,
      `[::127.0.0.1]:${port}`,
      `2130706433:${port}`,
      `0x7f.1:${port}`,
      `127.1:${port}`,
      `127.0.0.2:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
    ]) {
      for (const reference of [
        { reference: `oci://${host}/charts/hello:0.1.0` },
        {
          reference: `http://${host}/api/deployments`,
          chart: 'hello',
          version: '0.1.0',
        },
      ]) {
        const response = await request(server)
          .post('/api/deployments/charts')
          .send(reference);
        expect({ ...reference, status: response.status }).toEqual({
          ...reference,
          status: 400,
        });
        expect(response.body.error.message).toMatch(
          /Refusing to contact .*Backstage itself/,
        );
      }
    }
    const list = await request(server).get('/api/deployments/charts');
    expect(list.body.totalCount).toBe(0);
  });

  it('refuses loopback, private and metadata registries by class, naming the setting', async () => {
    const { server } = await backend({ registries: {} });
    for (const [reference, message] of [
      [
        `oci://[::ffff:127.0.0.1]:${registryPort}/charts/hello:0.1.0`,
        /127\.0\.0\.1\) is a loopback address; to allow it, set deployments\.registries\.allowLoopback/,
      ],
      [
        `oci://2130706433:${registryPort}/charts/hello:0.1.0`,
        /127\.0\.0\.1 is a loopback address/,
      ],
      [
        // localhost from /etc/hosts, resolved by the system.
        `oci://localhost:${registryPort}/charts/hello:0.1.0`,
        /(127\.0\.0\.1|::1) is a loopback address/,
      ],
      [
        'oci://10.0.0.1/charts/hello:0.1.0',
        /10\.0\.0\.1 is a private address .*deployments\.registries\.allow/,
      ],
      [
        'oci://[::ffff:192.168.1.1]/charts/hello:0.1.0',
        /192\.168\.1\.1\) is a private address/,
      ],
      ['oci://100.64.0.1/charts/hello:0.1.0', /carrier-grade NAT/],
      ['oci://[fd00::1]/charts/hello:0.1.0', /private address/],
      [
        'oci://[::ffff:a9fe:a9fe]/charts/hello:0.1.0',
        /169\.254\.169\.254\) is a cloud metadata address, which is never contacted/,
      ],
      ['oci://2852039166/charts/hello:0.1.0', /cloud metadata address/],
      ['oci://0/charts/hello:0.1.0', /unspecified/],
    ] as const) {
      const response = await request(server)
        .post('/api/deployments/charts')
        .send({ reference });
      expect({ reference, status: response.status }).toEqual({
        reference,
        status: 400,
      });
      expect(response.body.error.message).toMatch(message);
    }
  });

  it('allows a private range listed as a CIDR, and still registers from the stack registry however it is spelled', async () => {
    const { server } = await backend({
      registries: { allowLoopback: true, allow: ['*', '10.0.0.0/8'] },
    });
    // Allowed by the CIDR.
    const internal = await request(server)
      .post('/api/deployments/charts')
      .send({ reference: 'oci://10.255.255.1:1/charts/hello:0.1.0' });
    // Past the policy, to the network: nothing answers there.
    expect(internal.status).toBe(503);
    expect(internal.body.error.message).toMatch(
      /Could not reach 10\.255\.255\.1:1/,
    );

    const registered = await request(server)
      .post('/api/deployments/charts')
      .send({
        reference: `oci://[::ffff:127.0.0.1]:${registryPort}/charts/hello:0.1.0`,
      });
    expect(registered.status).toBe(201);
    expect(registered.body.manifestDigest).toBe(
      stack.pushedDigests.get(`${stack.registry}/hello`),
    );
  });
});

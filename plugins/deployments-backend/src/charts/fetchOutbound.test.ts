import { InputError } from '@backstage/errors';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { fetchOutbound } from './fetchOutbound';
import { createOutboundPolicy } from './oci/outboundPolicy';

describe('fetchOutbound', () => {
  let server: Server;
  let port: number;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.end('index');
    });
    await new Promise<void>(resolve =>
      server.listen(0, '127.0.0.1', () => resolve()),
    );
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  });

  beforeEach(() => {
    requests = 0;
  });

  const options = {
    allowPlainHttp: () => true,
    timeoutMs: 5_000,
    maxBytes: 1024,
    what: 'test index',
  };

  it('connects to the addresses the policy resolved', async () => {
    // registry.test exists only in the policy's resolver: reaching the server
    // proves the connection used it rather than the system's DNS.
    const policy = createOutboundPolicy({
      allowLoopback: true,
      lookup: async () => ['127.0.0.1'],
    });
    const response = await fetchOutbound(
      new URL(`http://registry.test:${port}/index.yaml`),
      { ...options, checkUrl: policy.check, connectLookup: policy.lookup },
    );
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('index');
    expect(requests).toBe(1);
  });

  it('refuses a name that resolves to a public address for the check and to loopback for the connection', async () => {
    let lookups = 0;
    const policy = createOutboundPolicy({
      allowLoopback: false,
      // DNS rebinding: a short-lived answer that changes between the two.
      lookup: async () => (lookups++ === 0 ? ['203.0.113.7'] : ['127.0.0.1']),
    });
    const attempt = fetchOutbound(
      new URL(`http://rebind.test:${port}/index.yaml`),
      { ...options, checkUrl: policy.check, connectLookup: policy.lookup },
    );
    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(
      /Refusing to connect to rebind\.test: 127\.0\.0\.1 is a loopback address/,
    );
    expect(lookups).toBe(2);
    expect(requests).toBe(0);
  });
});

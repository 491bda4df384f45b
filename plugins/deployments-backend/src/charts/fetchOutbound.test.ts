import { InputError } from '@backstage/errors';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { fetchOutbound } from './fetchOutbound';
import { createOutboundPolicy } from './oci/outboundPolicy';

describe('fetchOutbound', () => {
  let server: Server;
  let port: number;
  let requests = 0;
  // Stands in for Backstage's own port, which nothing may be sent to.
  let own: Server;
  let ownPort: number;
  let ownRequests = 0;
  // Every TCP connection the own server accepted, requests or not.
  let ownConnections = 0;

  beforeAll(async () => {
    own = createServer((_req, res) => {
      ownRequests += 1;
      res.end('backstage');
    });
    own.on('connection', () => {
      ownConnections += 1;
    });
    await new Promise<void>(resolve =>
      own.listen(0, '127.0.0.1', () => resolve()),
    );
    ownPort = (own.address() as AddressInfo).port;
    server = createServer((req, res) => {
      requests += 1;
      if (req.url === '/redirect-home') {
        res.writeHead(302, {
          location: `http://[::ffff:127.0.0.1]:${ownPort}/api`,
        });
        res.end();
        return;
      }
      res.end('index');
    });
    await new Promise<void>(resolve =>
      server.listen(0, '127.0.0.1', () => resolve()),
    );
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of [server, own]) {
      s.closeAllConnections();
      await new Promise(resolve => s.close(resolve));
    }
  });

  beforeEach(() => {
    requests = 0;
    ownRequests = 0;
    ownConnections = 0;
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
      lookup: async () => (lookups++ === 0 ? ['140.82.112.7'] : ['127.0.0.1']),
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

  it('refuses, at connect time, a system DNS name that resolves to loopback', async () => {
    // No pre-request check: the connection's own lookup refuses localhost
    // (from /etc/hosts) before any connection is made.
    const policy = createOutboundPolicy({ allowLoopback: false });
    const attempt = fetchOutbound(
      new URL(`http://localhost:${port}/index.yaml`),
      { ...options, connectLookup: policy.lookup },
    );
    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(
      /Refusing to connect to localhost: (127\.0\.0\.1|::1) is a loopback address/,
    );
    expect(requests).toBe(0);
  });

  it('checks the address a connection reached: an IPv4-mapped literal on the own port is Backstage', async () => {
    const policy = createOutboundPolicy({
      allowLoopback: true,
      ownHosts: [`localhost:${ownPort}`],
    });
    // Without the pre-request check, the connection itself is refused.
    const attempt = fetchOutbound(
      new URL(`http://[::ffff:127.0.0.1]:${ownPort}/api`),
      {
        ...options,
        connectLookup: policy.lookup,
        connectCheck: policy.checkConnection,
      },
    );
    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `Refusing to connect to ::ffff:7f00:1: ::ffff:127\\.0\\.0\\.1 \\(127\\.0\\.0\\.1\\) on port ${ownPort} is Backstage itself`,
      ),
    );
    expect(ownRequests).toBe(0);
  });

  it('refuses a redirect to Backstage in another spelling, before connecting', async () => {
    const policy = createOutboundPolicy({
      allowLoopback: true,
      ownHosts: [`localhost:${ownPort}`],
    });
    const attempt = fetchOutbound(
      new URL(`http://127.0.0.1:${port}/redirect-home`),
      {
        ...options,
        checkUrl: policy.check,
        connectLookup: policy.lookup,
        connectCheck: policy.checkConnection,
      },
    );
    await expect(attempt).rejects.toThrow(
      /Refusing to contact \[::ffff:7f00:1\]:\d+: ::ffff:7f00:1 \(127\.0\.0\.1\) on port \d+ is Backstage itself/,
    );
    expect(requests).toBe(1);
    expect(ownConnections).toBe(0);
  });
});

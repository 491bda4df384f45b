/*
 * A registry that drip-feeds bytes (the local stack's registry behind a
 * relay) or answers with an oversized body (a tiny fake registry) during
 * chart registration: bounded by time and by size, the refusal naming the
 * limit.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { createHash } from 'node:crypto';
import { createServer, Server as HttpServer, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { FaultRelay, startFaultRelay } from '../__testUtils__/faultRelay';
import { requireLocalStack } from '../__testUtils__/localStack';

jest.setTimeout(300_000);

const stack = requireLocalStack();
const API = '/api/deployments';
const MIB = 1024 * 1024;
// The registry client's limits (charts/oci/OciRegistryClient.ts).
const TIMEOUT_MS = 30_000;
const MAX_MANIFEST_BYTES = 4 * MIB;
const MAX_BLOB_BYTES = 20 * MIB;
const HUGE = 100 * MIB;
const SLOW_ANSWER_MS = 1_500;
const slowLayer = Buffer.from('a chart layer, slowly');

type Server = Parameters<typeof request>[0];

/** Writes `total` bytes of `fill` without holding them in memory. */
function stream(res: ServerResponse, total: number, fill = 0x20) {
  const chunk = Buffer.alloc(64 * 1024, fill);
  let sent = 0;
  let stopped = false;
  res.on('close', () => {
    stopped = true;
  });
  const write = () => {
    while (!stopped && sent < total) {
      const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
      sent += part.length;
      if (!res.write(part)) {
        res.once('drain', write);
        return;
      }
    }
    if (!stopped) res.end();
  };
  write();
  return () => sent;
}

const digestOf = (data: Buffer | string) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A registry whose every repository misbehaves its own way. */
async function startFakeRegistry() {
  const sent: Record<string, () => number> = {};
  const config = Buffer.from(
    '{"name":"big","version":"0.1.0","apiVersion":"v2"}',
  );
  const manifest = (layerSize: number, layerDigest: string) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
          digest: layerDigest,
          size: layerSize,
        },
      ],
    });
  const server: HttpServer = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') {
      res.end('{}');
      return;
    }
    const [, repo, kind] =
      /^\/v2\/charts\/([^/]+)\/(manifests|blobs)\//.exec(url) ?? [];
    res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
    if (kind === 'manifests') {
      if (repo === 'declared-huge-manifest') {
        // Says 100 MB up front.
        res.setHeader('content-length', String(HUGE));
        sent[repo] = stream(res, HUGE);
        return;
      }
      if (repo === 'streamed-huge-manifest') {
        // No length, then 100 MB.
        sent[repo] = stream(res, HUGE);
        return;
      }
      if (repo === 'huge-layer') {
        res.end(manifest(HUGE, `sha256:${'a'.repeat(64)}`));
        return;
      }
      if (repo === 'lying-layer') {
        // The manifest says a small layer; the blob is 100 MB.
        res.end(manifest(1000, `sha256:${'b'.repeat(64)}`));
        return;
      }
      if (repo === 'slow') {
        // Each answer just in time for the per-request limit.
        setTimeout(
          () => res.end(manifest(slowLayer.length, digestOf(slowLayer))),
          SLOW_ANSWER_MS,
        );
        return;
      }
    }
    if (kind === 'blobs' && repo === 'slow') {
      res.setHeader('content-type', 'application/octet-stream');
      setTimeout(() => res.end(slowLayer), SLOW_ANSWER_MS);
      return;
    }
    if (kind === 'blobs') {
      res.setHeader('content-type', 'application/octet-stream');
      if (url.includes(digestOf(config))) {
        res.end(config);
        return;
      }
      sent[repo] = stream(res, HUGE);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    close: () => {
      server.closeAllConnections();
      return new Promise(resolve => server.close(resolve));
    },
  };
}

describe('chart registration from a misbehaving registry', () => {
  let server: Server;
  let fake: Awaited<ReturnType<typeof startFakeRegistry>>;
  let relay: FaultRelay;

  beforeAll(async () => {
    fake = await startFakeRegistry();
    const [host, port] = stack.registry.split(':');
    relay = await startFaultRelay({ host, port: Number(port) });
    ({ server } = await startTestBackend({
      features: [
        deploymentsPlugin,
        mockServices.rootConfig.factory({
          data: { deployments: { registries: { allowLoopback: true } } },
        }),
      ],
    }));
    await request(server)
      .post(`${API}/keyring/bootstrap`)
      .send({ passphrase: 'correct horse battery staple 42' })
      .expect(201);
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  async function register(registry: string, chart: string) {
    const startedAt = Date.now();
    const response = await request(server)
      .post(`${API}/charts`)
      .send({
        reference: `oci://${registry}/charts/${chart}`,
        version: '0.1.0',
      });
    return { response, elapsed: Date.now() - startedAt };
  }

  it.each([
    [
      'declares a 100 MB manifest',
      'declared-huge-manifest',
      MAX_MANIFEST_BYTES,
    ],
    ['streams a 100 MB manifest', 'streamed-huge-manifest', MAX_MANIFEST_BYTES],
    ['lists a 100 MB layer', 'huge-layer', MAX_BLOB_BYTES],
    ['sends a 100 MB blob for a 1000 byte layer', 'lying-layer', 1000],
  ])(
    'refuses a registry that %s, naming the limit',
    async (_, chart, limit) => {
      const { response, elapsed } = await register(fake.host, chart);
      // eslint-disable-next-line no-console
      console.log(
        chart,
        elapsed,
        'ms',
        response.status,
        response.body.error?.message,
        fake.sent[chart]?.(),
      );
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain(`${limit} byte limit`);
      expect(elapsed).toBeLessThan(TIMEOUT_MS);
      // Read no further than the limit (plus what was in flight).
      expect(fake.sent[chart]?.() ?? 0).toBeLessThan(limit + 16 * MIB);
      const charts = await request(server).get(`${API}/charts`);
      expect(JSON.stringify(charts.body)).not.toContain(chart);
    },
  );

  it('gives up on a registry that drip-feeds bytes, naming the time limit', async () => {
    relay.drip(20);
    try {
      const { response, elapsed } = await register(relay.address, 'hello');
      // eslint-disable-next-line no-console
      console.log(
        'drip',
        elapsed,
        'ms',
        response.status,
        response.body.error?.message,
      );
      expect(response.status).toBe(503);
      expect(response.body.error.message).toContain(
        `Timed out after ${TIMEOUT_MS} ms`,
      );
      expect(elapsed).toBeLessThan(4 * TIMEOUT_MS);
    } finally {
      relay.resume();
    }
    // The same registry at full speed registers the chart.
    const { response } = await register(relay.address, 'hello');
    expect(response.status).toBe(201);
  });

  it('bounds a whole registration, not only each request', async () => {
    const { server: bounded } = await startTestBackend({
      features: [
        deploymentsPlugin,
        mockServices.rootConfig.factory({
          data: {
            deployments: {
              registries: {
                allowLoopback: true,
                registrationTimeoutSeconds: 2,
              },
            },
          },
        }),
      ],
    });
    const startedAt = Date.now();
    const response = await request(bounded)
      .post(`${API}/charts`)
      .send({ reference: `oci://${fake.host}/charts/slow`, version: '0.1.0' });
    const elapsed = Date.now() - startedAt;
    // eslint-disable-next-line no-console
    console.log('slow', elapsed, 'ms', response.body.error?.message);
    // The manifest came in 1.5 s, within every limit; the layer would have
    // made it 3 s in all.
    expect(response.status).toBe(503);
    expect(response.body.error.message).toBe(
      `Stopped registering oci://${
        fake.host
      }/charts/slow 0.1.0: it took longer than 2 s (deployments.registries.registrationTimeoutSeconds), the last step fetching the blob ${digestOf(
        slowLayer,
      )} of oci://${fake.host}/charts/slow:0.1.0 from ${fake.host}`,
    );
    expect(elapsed).toBeLessThan(2_900);
    const charts = await request(bounded).get(`${API}/charts`);
    expect(JSON.stringify(charts.body)).not.toContain('slow');
  });
});

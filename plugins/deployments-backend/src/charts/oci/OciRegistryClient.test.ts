import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import { createHash } from 'node:crypto';
import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { AddressInfo } from 'node:net';
import { requireLocalStack } from '../../__testUtils__/localStack';
import { OciRegistryClient } from './OciRegistryClient';
import { parseChartReference } from './parseChartReference';

const stack = requireLocalStack();
const loopback = (host: string) => host.startsWith('127.0.0.1:');

const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function startServer(
  handler: Handler,
): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, host: `127.0.0.1:${port}` };
}

function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('OciRegistryClient against the local registries', () => {
  const helloDigest = stack.pushedDigests.get(`${stack.registry}/hello`)!;

  it('fetches the manifest helm pushed, with its exact digest', async () => {
    const client = OciRegistryClient.create({ allowPlainHttp: loopback });
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello:0.1.0`,
    );
    const { manifest, digest, raw } = await client.getManifest(ref);
    expect(helloDigest).toMatch(/^sha256:/);
    expect(digest).toBe(helloDigest);
    expect(sha256(raw)).toBe(helloDigest);
    expect(manifest.config.mediaType).toBe(HELM_CONFIG);
    expect(manifest.layers.map(layer => layer.mediaType)).toContain(HELM_CHART);
  });

  it('fetches by digest and downloads verified blobs', async () => {
    const client = OciRegistryClient.create({ allowPlainHttp: loopback });
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello@${helloDigest}`,
    );
    const { manifest } = await client.getManifest(ref);
    const layer = manifest.layers.find(l => l.mediaType === HELM_CHART)!;
    const chart = await client.getBlob(ref, layer);
    expect(chart.length).toBe(layer.size);
    expect(sha256(chart)).toBe(layer.digest);
    // gzip magic
    expect(chart.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const config = JSON.parse(
      (await client.getBlob(ref, manifest.config)).toString(),
    );
    expect(config.name).toBe('hello');
  });

  it('rejects a blob whose digest does not match, and one over the cap', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      maxBlobBytes: 10,
    });
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello:0.1.0`,
    );
    const { manifest } = await client.getManifest(ref);
    const layer = manifest.layers.find(l => l.mediaType === HELM_CHART)!;
    await expect(client.getBlob(ref, layer)).rejects.toThrow(
      /over the 10 byte limit/,
    );
    const big = OciRegistryClient.create({ allowPlainHttp: loopback });
    // Right digest, wrong size: the registry sends more than we accept.
    await expect(
      big.getBlob(ref, { ...layer, size: layer.size - 1 }),
    ).rejects.toThrow(InputError);
  });

  it('answers NotFoundError for a digest the repository does not hold', async () => {
    const client = OciRegistryClient.create({ allowPlainHttp: loopback });
    const brokenDigest = stack.pushedDigests.get(`${stack.registry}/broken`)!;
    // The registry answers 404 for a digest it does not hold under that name.
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello@${brokenDigest}`,
    );
    await expect(client.getManifest(ref)).rejects.toThrow(NotFoundError);
  });

  it('caps manifest size', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      maxManifestBytes: 20,
    });
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello:0.1.0`,
    );
    await expect(client.getManifest(ref)).rejects.toThrow(
      /larger than the 20 byte limit/,
    );
  });

  it('resolves the digest a tag points to from Docker-Content-Digest, or the manifest bytes', async () => {
    const client = OciRegistryClient.create({ allowPlainHttp: loopback });
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello:0.1.0`,
    );
    expect(await client.resolveDigest(ref)).toBe(helloDigest);

    // A registry that sends no digest header: the GET's bytes decide.
    const body = JSON.stringify({ schemaVersion: 2, manifests: [] });
    const methods: string[] = [];
    const { server, host } = await startServer((request, response) => {
      methods.push(request.method!);
      response.writeHead(200, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
    try {
      const index = parseChartReference(`oci://${host}/team/app:1.2.3`);
      expect(await client.resolveDigest(index)).toBe(sha256(body));
      expect(methods).toEqual(['HEAD', 'GET']);
    } finally {
      server.close();
    }
  });

  it('lists tags', async () => {
    const client = OciRegistryClient.create({ allowPlainHttp: loopback });
    const tags = await client.listTags(
      parseChartReference(`oci://${stack.registry}/charts/hello`),
    );
    expect(tags).toContain('0.1.0');
  });

  it('answers NotFoundError naming the ref', async () => {
    const client = OciRegistryClient.create({ allowPlainHttp: loopback });
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello:9.9.9`,
    );
    await expect(client.getManifest(ref)).rejects.toThrow(NotFoundError);
    await expect(client.getManifest(ref)).rejects.toThrow(
      /charts\/hello:9\.9\.9/,
    );
  });

  it('needs a tag or digest to pull', async () => {
    const client = OciRegistryClient.create({ allowPlainHttp: loopback });
    await expect(
      client.getManifest(
        parseChartReference(`oci://${stack.registry}/charts/hello`),
      ),
    ).rejects.toThrow(/needs a tag or digest/);
  });

  it('does not use plain http unless allowed', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: () => false,
      timeoutMs: 5000,
    });
    const ref = parseChartReference(
      `oci://${stack.registry}/charts/hello:0.1.0`,
    );
    // https against a plain-http registry cannot succeed.
    await expect(client.getManifest(ref)).rejects.toThrow(
      /Could not reach|Timed out/,
    );
  });

  describe('basic auth registry', () => {
    const ref = parseChartReference(
      `oci://${stack.authRegistry}/charts/hello:0.1.0`,
    );

    it('refuses anonymous access', async () => {
      const client = OciRegistryClient.create({ allowPlainHttp: loopback });
      await expect(client.getManifest(ref)).rejects.toThrow(NotAllowedError);
    });

    it('works with basic credentials', async () => {
      const client = OciRegistryClient.create({
        allowPlainHttp: loopback,
        credentials: {
          kind: 'basic',
          username: stack.registryUser,
          password: stack.registryPassword,
        },
      });
      const { digest, manifest } = await client.getManifest(ref);
      expect(digest).toBe(
        stack.pushedDigests.get(`${stack.authRegistry}/hello`),
      );
      const layer = manifest.layers.find(l => l.mediaType === HELM_CHART)!;
      expect(sha256(await client.getBlob(ref, layer))).toBe(layer.digest);
      expect(await client.listTags(ref)).toContain('0.1.0');
    });

    it('resolves the digest a tag points to with a HEAD, with the stored credentials', async () => {
      const client = OciRegistryClient.create({
        allowPlainHttp: loopback,
        credentials: {
          kind: 'basic',
          username: stack.registryUser,
          password: stack.registryPassword,
        },
      });
      expect(await client.resolveDigest(ref)).toBe(
        stack.pushedDigests.get(`${stack.authRegistry}/hello`),
      );
      const anonymous = OciRegistryClient.create({ allowPlainHttp: loopback });
      await expect(anonymous.resolveDigest(ref)).rejects.toThrow(
        NotAllowedError,
      );
    });

    it('refuses a wrong password without echoing it', async () => {
      const password = 'not-the-password-S3cr3t';
      const client = OciRegistryClient.create({
        allowPlainHttp: loopback,
        credentials: { kind: 'basic', username: stack.registryUser, password },
      });
      const error = await client.getManifest(ref).catch(e => e);
      expect(error).toBeInstanceOf(NotAllowedError);
      expect(error.message).toMatch(/refused the credentials/);
      expect(
        JSON.stringify({
          ...error,
          message: error.message,
          stack: error.stack,
        }),
      ).not.toContain(password);
      expect(String(error)).not.toContain(
        Buffer.from(`${stack.registryUser}:${password}`).toString('base64'),
      );
    });
  });
});

describe('OciRegistryClient with a fake bearer-token registry', () => {
  const manifestBody = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: HELM_CONFIG, digest: sha256('{}'), size: 2 },
      layers: [
        { mediaType: HELM_CHART, digest: sha256('chart-bytes'), size: 11 },
      ],
    }),
  );
  let registry: { server: Server; host: string };
  let tokens: { server: Server; host: string };
  let storage: { server: Server; host: string };
  let tokenRequests: IncomingMessage[];
  let storageAuthorization: (string | undefined)[];
  const credentials = {
    kind: 'basic' as const,
    username: 'robot',
    password: 'pw-123',
  };

  beforeAll(async () => {
    storage = await startServer((request, response) => {
      storageAuthorization.push(request.headers.authorization);
      if (request.url === '/blob/chart') {
        response.end('chart-bytes');
      } else {
        response.end('tampered!!!');
      }
    });
    tokens = await startServer((request, response) => {
      tokenRequests.push(request);
      const expected = `Basic ${Buffer.from('robot:pw-123').toString(
        'base64',
      )}`;
      if (request.headers.authorization !== expected) {
        response.writeHead(401).end();
        return;
      }
      const url = new URL(request.url!, 'http://x');
      response.setHeader('content-type', 'application/json');
      // Some token services only send access_token.
      response.end(
        JSON.stringify({
          access_token: `tok:${url.searchParams.get('scope')}`,
        }),
      );
    });
    registry = await startServer((request, response) => {
      const url = new URL(request.url!, 'http://x');
      const repository = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(
        url.pathname,
      )?.[1];
      const scope = `repository:${repository}:pull`;
      if (request.headers.authorization !== `Bearer tok:${scope}`) {
        response.writeHead(401, {
          'www-authenticate': `Bearer realm="http://${tokens.host}/token",service="fake",scope="${scope}"`,
        });
        response.end();
        return;
      }
      if (
        url.pathname === '/v2/charts/app/manifests/1.0.0' ||
        url.pathname.startsWith('/v2/charts/app/manifests/sha256:')
      ) {
        response.end(manifestBody);
      } else if (
        url.pathname === `/v2/charts/app/blobs/${sha256('chart-bytes')}`
      ) {
        response
          .writeHead(307, { location: `http://${storage.host}/blob/chart` })
          .end();
      } else if (url.pathname === `/v2/charts/app/blobs/${sha256('{}')}`) {
        response
          .writeHead(302, { location: `http://${storage.host}/blob/other` })
          .end();
      } else if (url.pathname === '/v2/charts/app/tags/list') {
        if (url.searchParams.get('last') === 'b') {
          response.end(JSON.stringify({ name: 'charts/app', tags: ['c'] }));
        } else {
          response.setHeader(
            'link',
            '</v2/charts/app/tags/list?n=2&last=b>; rel="next"',
          );
          response.end(
            JSON.stringify({ name: 'charts/app', tags: ['a', 'b'] }),
          );
        }
      } else if (url.pathname === '/v2/charts/loop/manifests/1') {
        response
          .writeHead(302, { location: '/v2/charts/loop/manifests/1' })
          .end();
      } else {
        response.writeHead(404).end();
      }
    });
  });

  beforeEach(() => {
    tokenRequests = [];
    storageAuthorization = [];
  });

  afterAll(async () => {
    for (const { server } of [registry, tokens, storage]) {
      await new Promise(resolve => server.close(resolve));
    }
  });

  const ref = () =>
    parseChartReference(`oci://${registry.host}/charts/app:1.0.0`);

  it('gets a bearer token with basic credentials and caches it per scope', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      credentials,
    });
    const { manifest, digest } = await client.getManifest(ref());
    expect(digest).toBe(sha256(manifestBody));
    expect(manifest.layers[0].size).toBe(11);
    expect(tokenRequests).toHaveLength(1);
    const tokenUrl = new URL(tokenRequests[0].url!, 'http://x');
    expect(tokenUrl.searchParams.get('service')).toBe('fake');
    expect(tokenUrl.searchParams.get('scope')).toBe(
      'repository:charts/app:pull',
    );
    await client.getManifest(ref());
    expect(await client.listTags(ref())).toEqual(['a', 'b', 'c']);
    expect(tokenRequests).toHaveLength(1);
  });

  it('rejects a manifest whose digest differs from the requested one', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      credentials,
    });
    const other = sha256('something else');
    await expect(
      client.getManifest(
        parseChartReference(`oci://${registry.host}/charts/app@${other}`),
      ),
    ).rejects.toThrow(ConflictError);
    const right = sha256(manifestBody);
    const { digest } = await client.getManifest(
      parseChartReference(`oci://${registry.host}/charts/app@${right}`),
    );
    expect(digest).toBe(right);
  });

  it('follows a blob redirect to storage without sending Authorization there', async () => {
    const checked: string[] = [];
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      credentials,
      checkUrl: async url => {
        checked.push(url.href);
      },
    });
    const { manifest } = await client.getManifest(ref());
    const blob = await client.getBlob(ref(), manifest.layers[0]);
    expect(blob.toString()).toBe('chart-bytes');
    expect(storageAuthorization).toEqual([undefined]);
    expect(checked).toContain(`http://${storage.host}/blob/chart`);
  });

  it('rejects redirected blob content with the wrong digest', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      credentials,
    });
    const { manifest } = await client.getManifest(ref());
    // The config blob redirects to 'tampered!!!' which is longer than 2 bytes.
    await expect(client.getBlob(ref(), manifest.config)).rejects.toThrow(
      InputError,
    );
    await expect(
      client.getBlob(ref(), { ...manifest.config, size: 11 }),
    ).rejects.toThrow(ConflictError);
  });

  it('lets the outbound policy refuse a redirect hop', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      credentials,
      checkUrl: async url => {
        if (url.host === storage.host) {
          throw new NotAllowedError(`policy refuses ${url.host}`);
        }
      },
    });
    const { manifest } = await client.getManifest(ref());
    await expect(client.getBlob(ref(), manifest.layers[0])).rejects.toThrow(
      /policy refuses/,
    );
    expect(storageAuthorization).toEqual([]);
  });

  it('refuses a redirect to a host that may not use plain http', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: host => host === registry.host || host === tokens.host,
      credentials,
    });
    const { manifest } = await client.getManifest(ref());
    await expect(client.getBlob(ref(), manifest.layers[0])).rejects.toThrow(
      /Refusing plain http/,
    );
  });

  it('stops after too many redirects', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      credentials,
    });
    await expect(
      client.getManifest(
        parseChartReference(`oci://${registry.host}/charts/loop:1`),
      ),
    ).rejects.toThrow(/Too many redirects/);
  });

  it('answers NotAllowedError when the token service refuses', async () => {
    const client = OciRegistryClient.create({
      allowPlainHttp: loopback,
      credentials: { kind: 'basic', username: 'robot', password: 'wrong-pw' },
    });
    const error = await client.getManifest(ref()).catch(e => e);
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.message).toMatch(/refused the credentials/);
    expect(error.message).not.toContain('wrong-pw');
  });

  it('times out', async () => {
    const slow = await startServer(() => {
      // never answers
    });
    try {
      const client = OciRegistryClient.create({
        allowPlainHttp: loopback,
        timeoutMs: 200,
      });
      await expect(
        client.getManifest(
          parseChartReference(`oci://${slow.host}/charts/app:1`),
        ),
      ).rejects.toThrow(/Timed out after 200 ms/);
    } finally {
      slow.server.closeAllConnections();
      await new Promise(resolve => slow.server.close(resolve));
    }
  });
});

/*
 * Chart registration from classic HTTP Helm repositories through the HTTP
 * API, on real PostgreSQL and SQLite. The repositories are local HTTP servers
 * serving what the real `helm package` and `helm repo index` produce from
 * copies of examples/charts/hello: one on 127.0.0.1, and a second host on
 * 127.0.0.2 standing for the CDN or other origin chart URLs may point at.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const databases = createTestDatabases();
const helloSource = resolve(__dirname, '../../../../examples/charts/hello');

const USER = 'chart-reader';
const PASSWORD = 'Repo password 4 tests!';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

const sha256 = (bytes: Buffer) =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A repository's files as served: path below the repository → bytes. */
type Repository = Map<string, Buffer>;

/** `helm package` of a copy of hello (optionally changed) and `helm repo index` over it. */
async function packageRepository(
  work: string,
  options: { greeting?: string; url?: string } = {},
): Promise<Repository> {
  const dir = mkdtempSync(join(work, 'repo-'));
  const chart = join(dir, 'src', 'hello');
  cpSync(helloSource, chart, { recursive: true });
  if (options.greeting) {
    writeFileSync(
      join(chart, 'values.yaml'),
      `greeting: ${options.greeting}\n`,
      { flag: 'a' },
    );
  }
  const out = join(dir, 'out');
  mkdirSync(out);
  await runHelm(['package', chart, '--destination', out]);
  await runHelm([
    'repo',
    'index',
    out,
    ...(options.url ? ['--url', options.url] : []),
  ]);
  return new Map([
    ['index.yaml', readFileSync(join(out, 'index.yaml'))],
    ['hello-0.1.0.tgz', readFileSync(join(out, 'hello-0.1.0.tgz'))],
  ]);
}

async function listen(
  address: string,
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>(done => server.listen(0, address, done));
  return {
    server,
    host: `${address}:${(server.address() as AddressInfo).port}`,
  };
}

describe('charts API with HTTP Helm repositories', () => {
  let work: string;
  let original: Repository;
  let changed: Repository;
  let repo: { server: Server; host: string };
  let cdn: { server: Server; host: string };
  // What each repository path serves; tests change it.
  const repositories = new Map<string, Repository>();
  const requests: Array<{ server: string; url: string; auth?: string }> = [];

  const record = (server: string, req: IncomingMessage) =>
    requests.push({
      server,
      url: req.url!,
      auth: req.headers.authorization,
    });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kd-helm-repo-'));
    cdn = await listen('127.0.0.2', (req, res) => {
      record('cdn', req);
      if (req.url === '/cdn/hello-0.1.0.tgz') {
        res.end(original.get('hello-0.1.0.tgz'));
      } else if (req.url === '/cdn/to-link-local.tgz') {
        res
          .writeHead(302, { location: 'https://169.254.10.1/hello.tgz' })
          .end();
      } else {
        res.writeHead(404).end();
      }
    });
    repo = await listen('127.0.0.1', (req, res) => {
      record('repo', req);
      const url = req.url!;
      if (url.startsWith('/private') && req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' });
        res.end();
        return;
      }
      if (url === '/huge/index.yaml') {
        // A gigabyte announced, a line sent, then nothing: refused from the
        // header at once, not after the download or a timeout.
        res.writeHead(200, { 'content-length': String(1024 ** 3) });
        res.write('apiVersion: v1\n');
        return;
      }
      const slash = url.lastIndexOf('/');
      const body = repositories
        .get(url.slice(0, slash))
        ?.get(url.slice(slash + 1));
      if (body) {
        res.end(body);
      } else {
        res.writeHead(404).end();
      }
    });

    [original, changed] = await Promise.all([
      packageRepository(work),
      packageRepository(work, { greeting: 'changed after registration' }),
    ]);
    const withIndex = (index: string, archive = original) =>
      new Map([
        ['index.yaml', Buffer.from(index)],
        ['hello-0.1.0.tgz', archive.get('hello-0.1.0.tgz')!],
      ]);
    const originalIndex = original.get('index.yaml')!.toString();
    repositories.set('/stable', original);
    repositories.set('/private', original);
    // The index Helm wrote for the original, over the changed archive.
    repositories.set('/tampered', withIndex(originalIndex, changed));
    repositories.set(
      '/private-cdn',
      withIndex(
        originalIndex.replace(
          '- hello-0.1.0.tgz',
          `- http://${cdn.host}/cdn/hello-0.1.0.tgz`,
        ),
      ),
    );
    repositories.set(
      '/link-local',
      withIndex(
        originalIndex.replace(
          '- hello-0.1.0.tgz',
          '- https://169.254.169.254/hello-0.1.0.tgz',
        ),
      ),
    );
    repositories.set(
      '/redirecting',
      withIndex(
        originalIndex.replace(
          '- hello-0.1.0.tgz',
          `- http://${cdn.host}/cdn/to-link-local.tgz`,
        ),
      ),
    );
  });

  afterAll(async () => {
    for (const { server } of [repo, cdn]) {
      server.closeAllConnections();
      await new Promise(done => server.close(done));
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('serves what helm wrote: relative URLs and sha256 digests', () => {
    const index = original.get('index.yaml')!.toString();
    expect(index).toContain('- hello-0.1.0.tgz');
    expect(index).toContain(
      `digest: ${sha256(original.get('hello-0.1.0.tgz')!).slice(7)}`,
    );
  });

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let server: Awaited<ReturnType<typeof startTestBackend>>['server'];

    beforeAll(async () => {
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({
            knex: await databases.init(databaseId),
          }),
          mockServices.rootConfig.factory({
            data: { deployments: { registries: { allowLoopback: true } } },
          }),
        ],
      }));
    });

    const register = (body: object) =>
      request(server).post('/api/deployments/charts').send(body);

    it('registers a version pinned by the digest of the served archive, idempotently', async () => {
      const reference = `http://${repo.host}/stable`;
      const registered = await register({
        reference,
        chart: 'hello',
        version: '0.1.0',
      });
      expect(registered.status).toBe(201);
      expect(registered.body).toMatchObject({
        sourceKind: 'http',
        reference: `${reference}/hello`,
        name: 'hello',
        version: '0.1.0',
        appVersion: '1.27.0',
        kubeVersion: '>=1.30.0-0',
        chartDigest: sha256(original.get('hello-0.1.0.tgz')!),
        archiveSize: original.get('hello-0.1.0.tgz')!.length,
        hasValuesSchema: true,
      });
      expect(registered.body.manifestDigest).toBeUndefined();
      expect(registered.body.defaultValues).toContain('replicaCount: 1');
      expect(registered.body.valuesSchema.required).toContain('greeting');
      expect(registered.body.readme).toContain('# hello');

      // The recorded reference, given back as it is, names the same chart.
      const again = await register({
        reference: `${reference}/hello`,
        version: '0.1.0',
      });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(registered.body.id);

      for (const query of [
        { reference: `${reference}/hello` },
        { reference, chart: 'hello' },
      ]) {
        const versions = await request(server)
          .get('/api/deployments/charts/versions')
          .query(query);
        expect(versions.body).toEqual({ versions: ['0.1.0'] });
      }
    });

    it('refuses a version whose archive changed after registration', async () => {
      const path = `/moving-${databaseId}`;
      repositories.set(path, original);
      const reference = `http://${repo.host}${path}/hello`;
      const first = await register({ reference, version: '0.1.0' });
      expect(first.status).toBe(201);

      // A republished 0.1.0: new archive, index regenerated by helm.
      repositories.set(path, changed);
      const moved = await register({ reference, version: '0.1.0' });
      expect(moved.status).toBe(409);
      expect(moved.body.error.message).toMatch(
        /registered with digest .* the archive of this version changed/,
      );
      expect(moved.body.error.message).toContain(
        sha256(changed.get('hello-0.1.0.tgz')!),
      );
      const still = await request(server).get(
        `/api/deployments/charts/${first.body.id}`,
      );
      expect(still.body.chartDigest).toBe(first.body.chartDigest);
    });

    it('refuses an archive that does not match the digest in the index', async () => {
      const response = await register({
        reference: `http://${repo.host}/tampered`,
        chart: 'hello',
        version: '0.1.0',
      });
      expect(response.status).toBe(409);
      expect(response.body.error.message).toMatch(
        /has digest sha256:[0-9a-f]{64}, but the index .* lists sha256:/,
      );
      const list = await request(server)
        .get('/api/deployments/charts')
        .query({ name: 'hello' });
      expect(
        list.body.items.map((c: { reference: string }) => c.reference),
      ).not.toContain(`http://${repo.host}/tampered/hello`);
    });

    it('refuses chart URLs at or redirecting to link-local addresses', async () => {
      for (const path of ['/link-local', '/redirecting']) {
        const response = await register({
          reference: `http://${repo.host}${path}`,
          chart: 'hello',
          version: '0.1.0',
        });
        expect({ path, status: response.status }).toEqual({
          path,
          status: 400,
        });
        expect(response.body.error.message).toMatch(
          /Refusing to contact 169\.254\.\d+\.\d+: .*(link-local|metadata)/,
        );
      }
    });

    it('sends credentials stored for the repository host to it, and not to a chart URL on another origin', async () => {
      const anonymous = await register({
        reference: `http://${repo.host}/private/hello`,
        version: '0.1.0',
      });
      expect(anonymous.status).toBe(403);

      await request(server)
        .post('/api/deployments/keyring/bootstrap')
        .send({ passphrase: 'Helm repository keyring 2026!' })
        .expect(201);
      await request(server)
        .put(
          `/api/deployments/registries/${encodeURIComponent(
            repo.host,
          )}/credentials`,
        )
        .send({ username: USER, password: PASSWORD })
        .expect(200);

      requests.length = 0;
      const local = await register({
        reference: `http://${repo.host}/private/hello`,
        version: '0.1.0',
      });
      expect(local.status).toBe(201);
      const viaCdn = await register({
        reference: `http://${repo.host}/private-cdn/hello`,
        version: '0.1.0',
      });
      expect(viaCdn.status).toBe(201);
      expect(viaCdn.body.chartDigest).toBe(local.body.chartDigest);

      expect(requests).toEqual([
        { server: 'repo', url: '/private/index.yaml', auth: BASIC },
        { server: 'repo', url: '/private/hello-0.1.0.tgz', auth: BASIC },
        { server: 'repo', url: '/private-cdn/index.yaml', auth: BASIC },
        { server: 'cdn', url: '/cdn/hello-0.1.0.tgz', auth: undefined },
      ]);
      const audit = await request(server)
        .get('/api/deployments/audit')
        .query({ limit: 100 });
      expect(JSON.stringify(audit.body)).not.toContain(PASSWORD);
    });

    it('refuses an oversize index at once', async () => {
      const started = Date.now();
      const response = await register({
        reference: `http://${repo.host}/huge`,
        chart: 'hello',
        version: '0.1.0',
      });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(
        /index of .* is larger than the 20971520 byte limit/,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('refuses credentials and queries in repository URLs without recording them', async () => {
      const response = await register({
        reference: `http://someone:${PASSWORD}@${repo.host}/stable`,
        chart: 'hello',
        version: '0.1.0',
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
      const audit = await request(server)
        .get('/api/deployments/audit')
        .query({ limit: 100 });
      expect(JSON.stringify(audit.body)).not.toContain(PASSWORD);
    });
  });
});

/*
 * The HTTP repository client against real local HTTP servers: a repository
 * on 127.0.0.1 and a second host on 127.0.0.2 standing for a CDN or another
 * origin that chart URLs may point at.
 */
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
import { createOutboundPolicy } from '../oci/outboundPolicy';
import { HelmRepositoryClient } from './HelmRepositoryClient';
import { parseRepositoryReference } from './parseRepositoryReference';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function startServer(
  address: string,
  handler: Handler,
): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>(resolve => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, host: `${address}:${port}` };
}

const hex = (bytes: Buffer | string) =>
  createHash('sha256').update(bytes).digest('hex');

const ARCHIVE = Buffer.from('pretend this is a chart archive');
const OTHER_ARCHIVE = Buffer.from('some other bytes entirely');
const USER = 'robot';
const PASSWORD = 'repo-pw-7f3a';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

function index(entries: Array<Record<string, unknown>>): string {
  let text = 'apiVersion: v1\nentries:\n  app:\n';
  for (const entry of entries) {
    const lines = Object.entries(entry).map(([key, value]) =>
      Array.isArray(value)
        ? `${key}:\n${value.map(v => `    - ${v}\n`).join('')}`
        : `${key}: ${value}\n`,
    );
    text += `  - ${lines.join('    ')}`;
  }
  return `${text}generated: "2026-01-01T00:00:00Z"\n`;
}

describe('HelmRepositoryClient', () => {
  let repo: { server: Server; host: string };
  let other: { server: Server; host: string };
  // Authorization headers each server saw, by path.
  let seen: Array<{ host: string; path: string; authorization?: string }>;
  let indexes: Record<string, string>;

  beforeAll(async () => {
    other = await startServer('127.0.0.2', (request, response) => {
      seen.push({
        host: 'other',
        path: request.url!,
        authorization: request.headers.authorization,
      });
      if (request.url === '/app-1.0.0.tgz') {
        response.end(ARCHIVE);
      } else if (request.url === '/to-link-local.tgz') {
        response
          .writeHead(302, { location: 'https://169.254.169.254/latest.tgz' })
          .end();
      } else if (request.url === '/to-repo.tgz') {
        response
          .writeHead(302, {
            location: `http://${repo.host}/private/app-1.0.0.tgz`,
          })
          .end();
      } else if (request.url === '/wants-auth.tgz') {
        response
          .writeHead(401, { 'www-authenticate': 'Basic realm="cdn"' })
          .end();
      } else {
        response.writeHead(404).end();
      }
    });
    repo = await startServer('127.0.0.1', (request, response) => {
      const path = request.url!;
      seen.push({
        host: 'repo',
        path,
        authorization: request.headers.authorization,
      });
      if (
        path.startsWith('/private/') &&
        request.headers.authorization !== BASIC
      ) {
        response
          .writeHead(401, { 'www-authenticate': 'Basic realm="charts"' })
          .end();
        return;
      }
      if (path === '/huge/index.yaml') {
        // Declares a gigabyte and then sends nothing more: must be refused
        // from the header, not after a timeout.
        response.writeHead(200, { 'content-length': String(1024 ** 3) });
        response.write('apiVersion: v1\n');
        return;
      }
      if (path === '/endless/index.yaml') {
        response.writeHead(200, { 'content-type': 'text/yaml' });
        const chunk = Buffer.alloc(64 * 1024, '# filler line of comment\n');
        const pump = () => {
          while (!response.destroyed && response.write(chunk)) {
            // keep writing until the socket pushes back
          }
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
        return;
      }
      if (path.endsWith('/index.yaml')) {
        const body = indexes[path.slice(0, -'/index.yaml'.length)];
        if (body === undefined) {
          response.writeHead(404).end();
        } else {
          response.end(body);
        }
        return;
      }
      if (path.endsWith('/app-1.0.0.tgz')) {
        response.end(ARCHIVE);
      } else if (path.endsWith('/app-2.0.0.tgz')) {
        response.end(OTHER_ARCHIVE);
      } else if (path === '/private/redirect-out.tgz') {
        response
          .writeHead(302, { location: `http://${other.host}/app-1.0.0.tgz` })
          .end();
      } else {
        response.writeHead(404).end();
      }
    });
    indexes = {
      '/public': index([
        {
          name: 'app',
          version: '2.0.0',
          digest: hex(ARCHIVE), // the index lies about 2.0.0
          urls: ['app-2.0.0.tgz'],
        },
        {
          name: 'app',
          version: '1.0.0',
          digest: hex(ARCHIVE),
          urls: ['app-1.0.0.tgz'],
        },
        {
          name: 'app',
          version: '0.9.0',
          digest: 'md5:abc',
          urls: ['app-1.0.0.tgz'],
        },
        { name: 'app', version: '0.8.0', urls: ['../public/app-1.0.0.tgz'] },
        {
          name: 'app',
          version: '0.7.0',
          urls: ['https://169.254.10.1/app-0.7.0.tgz'],
        },
        {
          name: 'app',
          version: '0.6.0',
          urls: [`http://${other.host}/to-link-local.tgz`],
        },
        { name: 'app', version: '0.5.0', urls: ['ftp://example.com/app.tgz'] },
      ]),
      '/private': index([
        {
          name: 'app',
          version: '1.0.0',
          digest: hex(ARCHIVE),
          urls: ['app-1.0.0.tgz'],
        },
        {
          name: 'app',
          version: '1.0.1',
          digest: hex(ARCHIVE),
          urls: [`http://${other.host}/app-1.0.0.tgz`],
        },
        {
          name: 'app',
          version: '1.0.2',
          digest: hex(ARCHIVE),
          urls: ['redirect-out.tgz'],
        },
        {
          name: 'app',
          version: '1.0.3',
          digest: hex(ARCHIVE),
          urls: [`http://${other.host}/to-repo.tgz`],
        },
        {
          name: 'app',
          version: '1.0.4',
          urls: [`http://${other.host}/wants-auth.tgz`],
        },
      ]),
    };
  });

  beforeEach(() => {
    seen = [];
  });

  afterAll(async () => {
    for (const { server } of [repo, other]) {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    }
  });

  const policy = createOutboundPolicy({ allowLoopback: true });
  const client = (
    options: { credentials?: boolean; timeoutMs?: number } = {},
  ) =>
    HelmRepositoryClient.create({
      allowPlainHttp: host => /^127\.\d+\.\d+\.\d+:\d+$/.test(host),
      checkUrl: url => policy.check(url),
      connectLookup: policy.lookup,
      timeoutMs: options.timeoutMs,
      credentials: options.credentials
        ? { kind: 'basic', username: USER, password: PASSWORD }
        : undefined,
    });
  const ref = (path: string) =>
    parseRepositoryReference(`http://${repo.host}${path}`, 'app');

  it('lists versions and downloads an archive verified against the index digest', async () => {
    const repository = ref('/public');
    expect(await client().listVersions(repository)).toEqual([
      '2.0.0',
      '1.0.0',
      '0.9.0',
      '0.8.0',
      '0.7.0',
      '0.6.0',
      '0.5.0',
    ]);
    const entry = await client().getEntry(repository, '1.0.0');
    expect(await client().download(repository, entry)).toEqual(ARCHIVE);
    // Relative URLs resolve against the repository URL, as Helm resolves them.
    const relative = await client().getEntry(repository, '0.8.0');
    expect(await client().download(repository, relative)).toEqual(ARCHIVE);
    expect(seen.map(s => s.path)).toContain('/public/app-1.0.0.tgz');
  });

  it('refuses an archive whose digest differs from the index, and a digest it cannot check', async () => {
    const repository = ref('/public');
    const lying = await client().getEntry(repository, '2.0.0');
    const error = await client()
      .download(repository, lying)
      .catch(e => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain(`sha256:${hex(OTHER_ARCHIVE)}`);
    const md5 = await client().getEntry(repository, '0.9.0');
    await expect(client().download(repository, md5)).rejects.toThrow(
      /not sha256/,
    );
  });

  it('applies the outbound policy to chart URLs and their redirects', async () => {
    const repository = ref('/public');
    const direct = await client().getEntry(repository, '0.7.0');
    await expect(client().download(repository, direct)).rejects.toThrow(
      /Refusing to contact 169\.254\.10\.1: .*link-local/,
    );
    const redirected = await client().getEntry(repository, '0.6.0');
    await expect(client().download(repository, redirected)).rejects.toThrow(
      /Refusing to contact 169\.254\.169\.254/,
    );
    const ftp = await client().getEntry(repository, '0.5.0');
    await expect(client().download(repository, ftp)).rejects.toThrow(
      NotAllowedError,
    );
  });

  it('refuses plain http to hosts that may not use it', async () => {
    const strict = HelmRepositoryClient.create({
      allowPlainHttp: host => host === repo.host,
    });
    const repository = ref('/public');
    const entry = await strict.getEntry(repository, '0.6.0');
    await expect(strict.download(repository, entry)).rejects.toThrow(
      /Refusing plain http to 127\.0\.0\.2/,
    );
    const stricter = HelmRepositoryClient.create({
      allowPlainHttp: () => false,
    });
    await expect(stricter.listVersions(repository)).rejects.toThrow(InputError);
    await expect(stricter.listVersions(repository)).rejects.toThrow(
      /Plain http is not allowed for 127\.0\.0\.1:\d+; use https:\/\//,
    );
  });

  it('sends stored credentials to the repository origin only', async () => {
    const repository = ref('/private');
    const anonymous = await client()
      .listVersions(repository)
      .catch(e => e);
    expect(anonymous).toBeInstanceOf(NotAllowedError);
    expect(anonymous.message).toMatch(/requires credentials/);
    seen = [];

    const authed = client({ credentials: true });
    for (const version of ['1.0.0', '1.0.1', '1.0.2', '1.0.3']) {
      const entry = await authed.getEntry(repository, version);
      expect(await authed.download(repository, entry)).toEqual(ARCHIVE);
    }
    const toRepo = seen.filter(s => s.host === 'repo');
    const toOther = seen.filter(s => s.host === 'other');
    expect(toRepo.length).toBeGreaterThan(4);
    expect(toRepo.every(s => s.authorization === BASIC)).toBe(true);
    expect(toOther.map(s => s.path)).toEqual([
      '/app-1.0.0.tgz', // 1.0.1: a chart URL on another origin
      '/app-1.0.0.tgz', // 1.0.2: a redirect from the repository to it
      '/to-repo.tgz', // 1.0.3: another origin redirecting back
    ]);
    expect(toOther.every(s => s.authorization === undefined)).toBe(true);

    const elsewhere = await authed.getEntry(repository, '1.0.4');
    const refused = await authed.download(repository, elsewhere).catch(e => e);
    expect(refused).toBeInstanceOf(NotAllowedError);
    expect(refused.message).toMatch(/never sent to another origin/);
  });

  it('refuses wrong credentials without echoing them', async () => {
    const wrong = HelmRepositoryClient.create({
      allowPlainHttp: () => true,
      credentials: { kind: 'basic', username: USER, password: 'not-it-9b1' },
    });
    const error = await wrong.listVersions(ref('/private')).catch(e => e);
    expect(error).toBeInstanceOf(NotAllowedError);
    expect(error.message).toMatch(/refused the credentials/);
    expect(error.message).not.toContain('not-it-9b1');
  });

  it('refuses an oversize index fast, declared or streamed', async () => {
    const started = Date.now();
    const declared = await client({ timeoutMs: 20_000 })
      .listVersions(ref('/huge'))
      .catch(e => e);
    expect(declared).toBeInstanceOf(InputError);
    expect(declared.message).toMatch(/larger than the 20971520 byte limit/);
    expect(Date.now() - started).toBeLessThan(2_000);

    const small = HelmRepositoryClient.create({
      allowPlainHttp: () => true,
      maxIndexBytes: 1024 * 1024,
    });
    await expect(small.listVersions(ref('/endless'))).rejects.toThrow(
      /larger than the 1048576 byte limit/,
    );
  });

  it('answers NotFoundError for a missing index, chart or version', async () => {
    await expect(client().listVersions(ref('/nowhere'))).rejects.toThrow(
      NotFoundError,
    );
    await expect(
      client().listVersions(
        parseRepositoryReference(`http://${repo.host}/public`, 'nope'),
      ),
    ).rejects.toThrow(/has no nope/);
    await expect(client().getEntry(ref('/public'), '9.9.9')).rejects.toThrow(
      /no version 9\.9\.9 of app/,
    );
  });
});

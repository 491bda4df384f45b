/*
 * Hostile input at the HTTP API (issue 12): generated plan fields, values,
 * kubeconfigs, OCI references, keyring backups and log queries, on
 * PostgreSQL and SQLite, against the local stack's cluster and registry.
 * For every input: no 5xx, no crash, no unhandled rejection, a 4xx body
 * that names the field or the rule, and nothing stored on refusal.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import fc from 'fast-check';
import { Knex } from 'knex';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from './plugin';
import { requireLocalStack } from './__testUtils__/localStack';
import { createTestDatabases } from './__testUtils__/testDatabases';
import {
  API,
  TestServer as Server,
} from './__testUtils__/deploymentsTestBackend';

jest.setTimeout(600_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const ENTITY = 'component:default/payments-api';
// More runs when hunting: KUBEDEPLOY_PROPERTY_RUNS=1000.
const NUM_RUNS = Number(process.env.KUBEDEPLOY_PROPERTY_RUNS ?? 120);

type Response = { status: number; body: any; text?: string };

/** Every unhandled rejection while the suite runs. */
const unhandled: unknown[] = [];
const collect = (reason: unknown) => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on('unhandledRejection', collect);
});
afterAll(() => {
  process.off('unhandledRejection', collect);
});

// ---------------------------------------------------------------- arbitraries

/** Strings a parser or a database may choke on. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '../../etc/passwd',
    '%00',
    "'; DROP TABLE deployments_plans; --",
    '${jndi:ldap://x}',
    '{{ .Values }}',
    '__proto__',
    'constructor',
    'kube-system',
    '-leading-dash',
    'UPPER',
    'a'.repeat(64),
    'a'.repeat(254),
    'a'.repeat(300),
    '\ud800',
    'é',
    'component:default/',
    ':::',
    'user:default/x',
    'oci://',
  ),
);

/** Anything JSON can carry, with odd keys and deep nesting. */
const oddKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '',
    '.',
    'a.b',
    '$ref',
    '\u0000',
    'toString',
  ),
);
const deep = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { d: value };
  return value;
};
const oddJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(oddKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
  fc.constantFrom(
    deep(200),
    // Deeper than any chart's values; deeper still would only stress the
    // reporter: fast-check prints counterexamples recursively.
    deep(1000),
    JSON.parse('{"__proto__": {"polluted": true}}'),
    { constructor: { prototype: { polluted: true } } },
    { n: 1e308, m: -1e308, s: 'x'.repeat(100_000) },
  ),
);

/** YAML a values or kubeconfig parser must survive. */
const billionLaughs = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
  'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
].join('\n');
const hostileYaml: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc
    .dictionary(oddKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
    .map(o => JSON.stringify(o)),
  fc.constantFrom(
    billionLaughs,
    'a: &x 1\nb: *x\n<<: *x',
    'base: &b {k: 1}\nmerged: {<<: *b, j: 2}',
    'self: &s [*s]',
    'fn: !!js/function "function(){ return 1 }"',
    'r: !!js/regexp /x/',
    'b: !!binary aGVsbG8=',
    'x: !custom {a: 1}',
    'big: 123456789012345678901234567890',
    'inf: .inf\nnan: .nan\noct: 0o777\nhex: 0xFF',
    'dup: 1\ndup: 2',
    '? [complex, key]\n: v',
    '- just\n- a\n- list',
    'scalar',
    '~',
    '',
    '---\na: 1\n---\nb: 2',
    '%YAML 9.9\n---\na: 1',
    `k: ${'['.repeat(2000)}${']'.repeat(2000)}`,
    `long: ${'x'.repeat(200_000)}`,
    '\t\ttabs: 1',
    'a: "\\u0000"',
  ),
);

/** Kubeconfigs: data only is allowed; exec, auth-provider and files are not. */
const kubeconfigOf = (user: unknown, cluster: unknown = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'c',
        cluster: {
          server: stack.apiServerUrl,
          'certificate-authority-data': Buffer.from(stack.caPem).toString(
            'base64',
          ),
          ...(cluster as object),
        },
      },
    ],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });
const hostileKubeconfig: fc.Arbitrary<string> = fc.oneof(
  hostileYaml,
  fc
    .record({ user: oddJson, cluster: oddJson })
    .map(({ user, cluster }) =>
      kubeconfigOf(user, typeof cluster === 'object' ? cluster : {}),
    ),
  fc.constantFrom(
    kubeconfigOf({ exec: { command: '/bin/sh', args: ['-c', 'id'] } }),
    kubeconfigOf({ 'auth-provider': { name: 'gcp', config: {} } }),
    kubeconfigOf({ tokenFile: '/etc/passwd' }),
    kubeconfigOf({ 'client-certificate': '/etc/ssl/cert.pem' }),
    kubeconfigOf({ token: 'x' }, { 'certificate-authority': '/etc/passwd' }),
    kubeconfigOf({ token: 'x' }, { server: 'file:///etc/passwd' }),
    kubeconfigOf({ token: 'x' }, { server: 12345 }),
    kubeconfigOf({ token: ['not', 'a', 'string'] }),
    kubeconfigOf({ token: 'x'.repeat(200_000) }),
    kubeconfigOf({ username: 'a', password: 'b' }),
    kubeconfigOf({ token: 'x' }, { 'insecure-skip-tls-verify': 'yes' }),
    'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []',
    'apiVersion: v1\nkind: Config\nclusters: {a: 1}\nusers: 7\ncontexts: "x"',
    `apiVersion: v1\nkind: Config\nclusters: &c [{name: c, cluster: {server: "${stack.apiServerUrl}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: c, user: u}}]\ncurrent-context: x`,
  ),
);

/** OCI references and versions, most of them malformed. */
const hostileReference: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  fc
    .tuple(
      fc.constantFrom(
        'oci://',
        'https://',
        'http://',
        'OCI://',
        'oci:/',
        'ftp://',
        'file://',
        '',
      ),
      fc.constantFrom(
        stack.registry,
        `${stack.registry}:`,
        '[::1]',
        '127.0.0.1:99999',
        'user:pass@host',
        '',
        ' host',
      ),
      fc.constantFrom(
        '/charts/hello',
        '/charts/missing',
        '/charts/hello:0.1.0',
        '/charts/hello@sha256:zz',
        `/charts/hello@sha256:${'0'.repeat(64)}`,
        '/Charts/UPPER',
        '/../../x',
        '/charts/hello?x=1#f',
        '/%2e%2e/x',
        '',
        '/',
        `/${'a'.repeat(1000)}`,
      ),
    )
    .map(([scheme, host, path]) => `${scheme}${host}${path}`),
);
const hostileVersion: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  fc.constantFrom(
    '0.1.0',
    'v0.1.0',
    '0.1',
    '1.0.0-',
    '1.0.0+build',
    '../0.1.0',
    'latest',
    '0.1.0\n',
    '99999999999999999999.0.0',
    '*',
    '>=0.1.0',
  ),
);

// ------------------------------------------------------------------- helpers

/**
 * The refusal rule: never a 5xx; a 4xx carries {error:{name,message}} whose
 * message matches one of the hints (the field or the rule).
 */
function expectAnswered(
  label: string,
  input: unknown,
  response: Response,
  hints: RegExp,
  upstream?: RegExp,
) {
  const summary = {
    label,
    input: JSON.stringify(input)?.slice(0, 400),
    status: response.status,
    error: response.body?.error,
  };
  // A well-formed reference to a registry that does not answer is not bad
  // input: that 503 names the registry it could not reach.
  const upstreamDown =
    response.status === 503 &&
    upstream !== undefined &&
    upstream.test(response.body?.error?.message ?? '');
  expect({
    ...summary,
    server: response.status < 500 || upstreamDown,
  }).toEqual({
    ...summary,
    server: true,
  });
  if (response.status < 400 || upstreamDown) return;
  expect(response.body).toMatchObject({
    error: { name: expect.any(String), message: expect.any(String) },
  });
  expect({
    ...summary,
    named: hints.test(response.body.error.message),
  }).toEqual({ ...summary, named: true });
}

/** Setup steps must succeed; a failure names the response. */
function ensure(response: Response, status: number) {
  if (response.status !== status) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
}

async function count(knex: Knex, table: string): Promise<number> {
  const [row] = await knex(table).count({ n: '*' });
  return Number(row.n);
}

/** Sends, checks the rule, the health endpoint and the table on refusal. */
async function probe(
  server: Server,
  knex: Knex,
  options: {
    label: string;
    input: unknown;
    table?: string;
    hints: RegExp;
    upstream?: RegExp;
    send: () => Promise<Response>;
  },
): Promise<Response> {
  const before = options.table ? await count(knex, options.table) : 0;
  const response = await options.send();
  expectAnswered(
    options.label,
    options.input,
    response,
    options.hints,
    options.upstream,
  );
  if (options.table && response.status >= 400) {
    expect({
      label: options.label,
      rows: await count(knex, options.table),
    }).toEqual({ label: options.label, rows: before });
  }
  const health = await request(server).get(`${API}/health`);
  expect(health.status).toBe(200);
  expect({ label: options.label, unhandled: unhandled.map(String) }).toEqual({
    label: options.label,
    unhandled: [],
  });
  return response;
}

const FIELD = (...names: string[]) =>
  new RegExp(`${names.join('|')}|must|invalid|not allowed|unknown`, 'i');

// --------------------------------------------------------------------- suite

describe.each(databases.eachSupportedId())(
  'hostile input at the HTTP API (%p)',
  databaseId => {
    let server: Server;
    let knex: Knex;
    let chartId: string;
    let planId: string;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      ({ server } = await startTestBackend({
        features: [
          deploymentsPlugin,
          mockServices.database.factory({ knex }),
          mockServices.rootConfig.factory({
            data: { deployments: { registries: { allowLoopback: true } } },
          }),
          catalogServiceMock.factory({
            entities: [
              {
                apiVersion: 'backstage.io/v1alpha1',
                kind: 'Component',
                metadata: { name: 'payments-api', namespace: 'default' },
                spec: { type: 'service', lifecycle: 'production', owner: 'x' },
              },
            ],
          }),
        ],
      }));
      const bootstrap = await request(server)
        .post(`${API}/keyring/bootstrap`)
        .send({ passphrase: 'correct horse battery staple 42' });
      ensure(bootstrap, 201);
      const target = await request(server)
        .post(`${API}/targets`)
        .send({
          name: 'local',
          allowedNamespaces: ['team-a'],
          credentials: {
            authKind: 'kubeconfig',
            kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
          },
        });
      ensure(target, 201);
      const chart = await request(server)
        .post(`${API}/charts`)
        .send({
          reference: `oci://${stack.registry}/charts/hello`,
          version: '0.1.0',
        });
      ensure(chart, 201);
      chartId = chart.body.id;
      const plan = await request(server).post(`${API}/plans`).send({
        entityRef: ENTITY,
        chartId,
        target: 'local',
        namespace: 'team-a',
        releaseName: 'hostile-base',
      });
      ensure(plan, 201);
      planId = plan.body.id;
    });

    /** Mostly valid, so that the hostile field is often the only fault. */
    const validOr = <T>(
      valid: fc.Arbitrary<T>,
      hostile: fc.Arbitrary<unknown>,
    ) =>
      fc.oneof(
        { arbitrary: valid, weight: 4 },
        { arbitrary: hostile, weight: 1 },
      );
    const planFields = fc.record(
      {
        entityRef: validOr(
          fc.constant(ENTITY),
          fc.oneof(hostileString, fc.anything()),
        ),
        target: validOr(
          fc.constant('local'),
          fc.oneof(hostileString, fc.anything()),
        ),
        namespace: validOr(fc.constant('team-a'), hostileString),
        releaseName: validOr(
          fc.stringMatching(/^[a-z][a-z0-9]{0,20}$/),
          hostileString,
        ),
        options: validOr(
          fc.record(
            {
              timeoutSeconds: validOr(
                fc.integer({ min: 10, max: 3600 }),
                fc.oneof(fc.integer(), fc.double(), oddJson),
              ),
              historyMax: validOr(
                fc.integer({ min: 1, max: 100 }),
                fc.oneof(fc.integer(), oddJson),
              ),
              createNamespace: validOr(fc.boolean(), oddJson),
              runTests: validOr(fc.boolean(), oddJson),
            },
            { requiredKeys: [] },
          ),
          oddJson,
        ),
      },
      { requiredKeys: ['entityRef', 'target', 'namespace', 'releaseName'] },
    );
    const planHints = FIELD(
      'entityRef',
      'entity',
      'target',
      'namespace',
      'releaseName',
      'release name',
      'options',
      'timeout',
      'history',
      'chart',
      'already',
    );

    it('creates or refuses plans with hostile fields', async () => {
      await fc.assert(
        fc.asyncProperty(planFields, async fields => {
          await probe(server, knex, {
            label: 'POST /plans',
            input: fields,
            table: 'deployments_plans',
            hints: planHints,
            send: () =>
              request(server)
                .post(`${API}/plans`)
                .send({ chartId, ...fields }),
          });
        }),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });

    it('updates or refuses a plan with hostile fields', async () => {
      await fc.assert(
        fc.asyncProperty(planFields, async fields => {
          const before = await knex('deployments_plans')
            .where({ id: planId })
            .first();
          const response = await probe(server, knex, {
            label: `PUT /plans/${planId}`,
            input: fields,
            table: 'deployments_plans',
            hints: planHints,
            send: () =>
              request(server).put(`${API}/plans/${planId}`).send(fields),
          });
          const after = await knex('deployments_plans')
            .where({ id: planId })
            .first();
          expect(
            response.status >= 400 ? after.revision : before.revision,
          ).toBe(before.revision);
        }),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });

    it('validates or refuses hostile values and values YAML', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            oddJson.map(values => ({ values })),
            hostileYaml.map(valuesYaml => ({ valuesYaml })),
          ),
          async body => {
            await probe(server, knex, {
              label: 'POST /charts/{id}/values/validate',
              input: body,
              hints: FIELD('values', 'valuesYaml', 'YAML', 'JSON', 'object'),
              send: () =>
                request(server)
                  .post(`${API}/charts/${chartId}/values/validate`)
                  .send(body),
            });
            await probe(server, knex, {
              label: 'POST /profiles',
              input: body,
              table: 'deployments_profiles',
              hints: FIELD(
                'values',
                'valuesYaml',
                'YAML',
                'JSON',
                'object',
                'name',
              ),
              send: () =>
                request(server)
                  .post(`${API}/profiles`)
                  .send({ chartId, name: 'hostile', ...body }),
            });
          },
        ),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });

    const kubeconfigHints = FIELD(
      'kubeconfig',
      'exec',
      'auth-provider',
      'credentials',
      'cluster',
      'user',
      'context',
      'server',
      'token',
      'CA',
      'TLS',
      'certificate',
    );

    it('registers or refuses targets with hostile kubeconfigs', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(hostileKubeconfig, async kubeconfig => {
          n += 1;
          await probe(server, knex, {
            label: 'POST /targets',
            input: kubeconfig,
            table: 'deployments_targets',
            hints: kubeconfigHints,
            send: () =>
              request(server)
                .post(`${API}/targets`)
                .send({
                  name: `k-${n}`,
                  allowedNamespaces: ['team-a'],
                  credentials: { authKind: 'kubeconfig', kubeconfig },
                }),
          });
        }),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });

    it('replaces or refuses credentials with hostile kubeconfigs', async () => {
      const spare = await request(server)
        .post(`${API}/targets`)
        .send({
          name: 'spare',
          apiServerUrl: stack.apiServerUrl,
          caData: stack.caPem,
          allowedNamespaces: ['team-a'],
          credentials: { authKind: 'token', token: 'spare-token' },
        });
      ensure(spare, 201);
      await fc.assert(
        fc.asyncProperty(hostileKubeconfig, async kubeconfig => {
          const before = await knex('deployments_targets')
            .where({ name: 'spare' })
            .first();
          const response = await probe(server, knex, {
            label: 'PUT /targets/spare/credentials',
            input: kubeconfig,
            hints: kubeconfigHints,
            send: () =>
              request(server)
                .put(`${API}/targets/spare/credentials`)
                .send({ authKind: 'kubeconfig', kubeconfig }),
          });
          const after = await knex('deployments_targets')
            .where({ name: 'spare' })
            .first();
          expect({
            status: response.status,
            unchanged: after.revision === before.revision,
          }).toEqual({
            status: response.status,
            unchanged: response.status >= 400,
          });
        }),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });

    it('registers or refuses charts by hostile references and versions', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            { arbitrary: hostileReference, weight: 4 },
            fc.constant(`oci://${stack.registry}/charts/hello`),
          ),
          fc.oneof(
            { arbitrary: hostileVersion, weight: 4 },
            fc.constant('0.1.0'),
          ),
          async (reference, version) => {
            const hints = FIELD(
              'reference',
              'version',
              'chart',
              'registry',
              'repository',
              'URL',
              'does not exist',
            );
            const upstream = /^Could not reach \S+ for /;
            await probe(server, knex, {
              label: 'POST /charts',
              input: { reference, version },
              table: 'deployments_charts',
              hints,
              upstream,
              send: () =>
                request(server)
                  .post(`${API}/charts`)
                  .send({ reference, version }),
            });
            await probe(server, knex, {
              label: 'GET /charts/versions',
              input: { reference },
              hints,
              upstream,
              send: () =>
                request(server)
                  .get(`${API}/charts/versions`)
                  .query({ reference }),
            });
          },
        ),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });

    it('verifies or refuses hostile keyring backups', async () => {
      const backup = await request(server)
        .post(`${API}/keyring/backup`)
        .send({ passphrase: 'another long passphrase 42' })
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          res.on('end', () => done(null, text));
        });
      expect(backup.status).toBe(200);
      const real = JSON.parse(backup.body as string);
      const field = fc.constantFrom(
        ...Object.keys(real),
        'kdf.N',
        'kdf.r',
        'kdf.p',
        'kdf.salt',
        'kdf.name',
      );
      const mutated = fc.tuple(field, oddJson).map(([path, value]) => {
        const copy = JSON.parse(JSON.stringify(real));
        const [head, tail] = path.split('.');
        if (tail) copy[head][tail] = value;
        else copy[head] = value;
        return JSON.stringify(copy);
      });
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            mutated,
            hostileString,
            oddJson.map(v => JSON.stringify(v) ?? 'undefined'),
            fc.constantFrom(
              JSON.stringify({ ...real, kdf: { ...real.kdf, N: 2 ** 40 } }),
              JSON.stringify({ ...real, kdf: { ...real.kdf, r: 1e9 } }),
              JSON.stringify({ ...real, ciphertext: '!!!not base64' }),
              JSON.stringify({ ...real, formatVersion: '1' }),
            ),
          ),
          fc.oneof(fc.constant('another long passphrase 42'), hostileString),
          async (file, passphrase) => {
            await probe(server, knex, {
              label: 'POST /keyring/backup/verify',
              input: { file: file.slice(0, 300), passphrase },
              table: 'deployments_keyring_keys',
              hints: FIELD('backup', 'passphrase', 'keyring'),
              send: () =>
                request(server)
                  .post(`${API}/keyring/backup/verify`)
                  .send({ backup: file, passphrase }),
            });
          },
        ),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });

    it('answers or refuses hostile log queries', async () => {
      const param = fc.oneof(
        {
          arbitrary: fc.integer({ min: 1, max: 10000 }).map(String),
          weight: 6,
        },
        fc.integer().map(String),
        fc.double().map(String),
        hostileString,
        fc.constantFrom('0', '-1', '1e3', '10001', '99999999999999999999'),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              tailLines: param,
              sinceSeconds: param,
              pod: fc.oneof(fc.constant('hello-0'), hostileString),
              container: fc.oneof(fc.constant('hello'), hostileString),
            },
            { requiredKeys: ['pod'] },
          ),
          async query => {
            await probe(server, knex, {
              label: 'GET /plans/{id}/logs',
              input: query,
              hints: FIELD(
                'tailLines',
                'sinceSeconds',
                'pod',
                'container',
                'not found',
                'release',
              ),
              send: () =>
                request(server).get(`${API}/plans/${planId}/logs`).query(query),
            });
          },
        ),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });
    it('answers or refuses hostile ids and names in the path', async () => {
      // An empty segment is another route (none), not an odd id.
      const encodable = hostileString.filter(text => {
        if (text === '') return false;
        try {
          encodeURIComponent(text);
          return true;
        } catch {
          return false;
        }
      });
      const routes: Array<
        [method: 'get' | 'put' | 'delete', path: string, body?: object]
      > = [
        ['get', '/plans/:x'],
        ['get', '/plans/:x/logs?pod=hello-0'],
        ['get', '/plans/:x/history'],
        ['get', '/charts/:x'],
        ['get', '/profiles/:x'],
        ['get', '/operations/:x'],
        ['get', '/operations/:x/lines'],
        ['get', '/targets/:x'],
        ['put', '/targets/:x/credentials', { authKind: 'token', token: 't' }],
        ['put', '/registries/:x/credentials', { username: 'u', password: 'p' }],
        ['delete', '/registries/:x/credentials'],
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.oneof(
            encodable.map(encodeURIComponent),
            fc.constantFrom('%ff', '%', '%2e%2e', '..', 'a%2Fb', '%20'),
          ),
          async ([method, path, body], segment) => {
            const url = `${API}${path.replace(':x', segment)}`;
            await probe(server, knex, {
              label: `${method.toUpperCase()} ${path}`,
              input: segment,
              table: method === 'get' ? undefined : 'deployments_registries',
              hints: FIELD(
                'id',
                'name',
                'host',
                'plan',
                'chart',
                'profile',
                'operation',
                'target',
                'registry',
                'not found',
                'does not exist',
                'path',
                'URI',
              ),
              send: () => {
                const call = request(server)[method](url);
                return body ? call.send(body) : call;
              },
            });
          },
        ),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });
    it('lists or refuses hostile list queries and cursors', async () => {
      const cursor = fc.oneof(
        fc
          .array(fc.oneof(hostileString, fc.constant('2026-11-23T00:00:00Z')), {
            maxLength: 3,
          })
          .map(key => Buffer.from(JSON.stringify(key)).toString('base64url')),
        hostileString,
        fc.constantFrom(
          ...[
            ['\u0000'],
            ['\u0000', 'x'],
            ['x', '\u0000'],
            ['\u0000', 'x', 'y'],
          ]
            .concat([
              ['\ud800', 'x'],
              ['not a date', 'x'],
              ['x'.repeat(2000), 'y'],
            ])
            .map(key => Buffer.from(JSON.stringify(key)).toString('base64url')),
        ),
        oddJson
          .map(v => Buffer.from(JSON.stringify(v) ?? '').toString('base64url'))
          // A longer URL is refused by Node's HTTP parser (431, no body)
          // before the plugin sees it.
          .filter(text => text.length <= 4096),
      );
      const value = fc.oneof(
        hostileString,
        fc.integer().map(String),
        fc.constantFrom('1', '500', '501', '0', '-1', '1.5', '1e2', 'NaN'),
        fc.array(fc.string({ maxLength: 5 }), { minLength: 2, maxLength: 3 }),
      );
      const routes: Array<[path: string, params: string[]]> = [
        ['/plans', ['limit', 'offset', 'entityRef', 'target']],
        [
          '/audit',
          ['actor', 'before', 'eventId', 'limit', 'outcome', 'subject'],
        ],
        ['/operations', ['limit', 'kind', 'status', 'target']],
        ['/profiles', ['limit', 'offset', 'chartId']],
        ['/charts', ['limit', 'name', 'offset']],
        ['/targets', ['limit', 'offset']],
        [`/plans/${planId}/operations`, ['limit', 'offset']],
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes).chain(([path, params]) =>
            fc.tuple(
              fc.constant(path),
              fc.dictionary(fc.constantFrom(...params, 'unknown'), value, {
                maxKeys: 3,
              }),
              path === '/plans' || path === '/operations'
                ? fc.option(cursor)
                : fc.constant(null),
            ),
          ),
          async ([path, query, after]) => {
            const withCursor = after === null ? query : { ...query, after };
            await probe(server, knex, {
              label: `GET ${path}`,
              input: withCursor,
              hints: FIELD(
                'cursor',
                'limit',
                'offset',
                'before',
                'after',
                'entityRef',
                'target',
                'actor',
                'eventId',
                'outcome',
                'subject',
                'kind',
                'status',
                'chartId',
                'name',
                'query',
              ),
              send: () =>
                request(server).get(`${API}${path}`).query(withCursor),
            });
          },
        ),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });
    it('starts or refuses operations and approvals with hostile bodies', async () => {
      const revision = fc.oneof(
        fc.integer(),
        fc.constantFrom(
          0,
          2 ** 31,
          2 ** 53,
          1e21,
          1e308,
          -1,
          1.5,
          Number.MAX_SAFE_INTEGER,
        ),
        oddJson,
      );
      const text = fc.oneof(hostileString, oddJson);
      const bodies = fc.oneof(
        fc
          .record({ revision, overrideReason: text }, { requiredKeys: [] })
          .map(body => ['rollback', body] as const),
        fc
          .record(
            {
              confirmReleaseName: fc.oneof(fc.constant('hostile-base'), text),
              overrideReason: text,
            },
            { requiredKeys: [] },
          )
          .map(body => ['uninstall', body] as const),
        fc
          .record(
            {
              kind: fc.oneof(
                fc.constantFrom('apply', 'rollback', 'uninstall'),
                text,
              ),
              rollbackRevision: revision,
              comment: text,
            },
            { requiredKeys: [] },
          )
          .map(body => ['approvals', body] as const),
      );
      await fc.assert(
        fc.asyncProperty(bodies, async ([step, body]) => {
          await probe(server, knex, {
            label: `POST /plans/{id}/${step}`,
            input: body,
            table:
              step === 'approvals'
                ? 'deployments_approvals'
                : 'deployments_operations',
            hints: FIELD(
              'revision',
              'rollbackRevision',
              'overrideReason',
              'confirmReleaseName',
              'release',
              'kind',
              'comment',
              'approval',
              'dry-run',
              'deployed',
              'installed',
              'plan',
            ),
            send: () =>
              request(server).post(`${API}/plans/${planId}/${step}`).send(body),
          });
        }),
        { numRuns: NUM_RUNS },
      );
      expect(unhandled.map(String)).toEqual([]);
    });
  },
);

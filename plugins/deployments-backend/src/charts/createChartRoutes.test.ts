/*
 * Chart registration through the HTTP API against the local stack's real OCI
 * registry, on real PostgreSQL and SQLite.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { requireLocalStack, runHelm } from '../__testUtils__/localStack';
import { createTestDatabases } from '../__testUtils__/testDatabases';

jest.setTimeout(180_000);

const stack = requireLocalStack();
const databases = createTestDatabases();
const helloSource = resolve(__dirname, '../../../../examples/charts/hello');

async function backend(knex: import('knex').Knex, registries: object) {
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({ knex }),
      mockServices.rootConfig.factory({
        data: { deployments: { registries } },
      }),
    ],
  });
  return server;
}

/** Packages a copy of hello, optionally changed, and pushes it to its own repository. */
async function pushHello(
  repository: string,
  greeting?: string,
): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'kd-chart-'));
  try {
    cpSync(helloSource, join(work, 'hello'), { recursive: true });
    if (greeting) {
      writeFileSync(
        join(work, 'hello', 'values.yaml'),
        `greeting: ${greeting}\n`,
        { flag: 'a' },
      );
    }
    await runHelm(['package', join(work, 'hello'), '--destination', work]);
    const archive = join(
      work,
      readdirSync(work).find(f => f.endsWith('.tgz'))!,
    );
    const { stdout, stderr } = await runHelm([
      'push',
      archive,
      `oci://${stack.registry}/${repository}`,
      '--plain-http',
    ]);
    return /Digest: (sha256:[0-9a-f]{64})/.exec(stdout + stderr)![1];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe.each(databases.eachSupportedId())('charts API (%p)', databaseId => {
  it('registers hello pinned by digest, idempotently, with schema, defaults and README', async () => {
    const server = await backend(await databases.init(databaseId), {
      allowLoopback: true,
    });
    const registered = await request(server)
      .post('/api/deployments/charts')
      .send({
        reference: `oci://${stack.registry}/charts/hello`,
        version: '0.1.0',
      });

    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({
      reference: `oci://${stack.registry}/charts/hello`,
      name: 'hello',
      version: '0.1.0',
      appVersion: '1.27.0',
      kubeVersion: '>=1.30.0-0',
      manifestDigest: stack.pushedDigests.get(`${stack.registry}/hello`),
      chartDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      hasValuesSchema: true,
    });
    expect(registered.body.defaultValues).toContain('replicaCount: 1');
    expect(registered.body.valuesSchema.required).toContain('greeting');
    expect(registered.body.readme).toContain('# hello');

    const again = await request(server)
      .post('/api/deployments/charts')
      .send({ reference: `oci://${stack.registry}/charts/hello:0.1.0` });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(registered.body.id);
    // The chart's name apart from the repository, as for HTTP repositories.
    const split = await request(server)
      .post('/api/deployments/charts')
      .send({
        reference: `oci://${stack.registry}/charts`,
        chart: 'hello',
        version: '0.1.0',
      });
    expect(split.status).toBe(200);
    expect(split.body.id).toBe(registered.body.id);

    const versions = await request(server)
      .get('/api/deployments/charts/versions')
      .query({ reference: `oci://${stack.registry}/charts/hello` });
    expect(versions.body).toEqual({
      versions: expect.arrayContaining(['0.1.0']),
    });

    const list = await request(server).get('/api/deployments/charts');
    expect(list.body.totalCount).toBe(1);
  });

  it('refuses a version whose tag moved to different bytes', async () => {
    const server = await backend(await databases.init(databaseId), {
      allowLoopback: true,
    });
    const repository = `kd-test-${randomBytes(4).toString('hex')}`;
    const firstDigest = await pushHello(repository);
    const reference = `oci://${stack.registry}/${repository}/hello`;

    const first = await request(server)
      .post('/api/deployments/charts')
      .send({ reference, version: '0.1.0' });
    expect(first.status).toBe(201);
    expect(first.body.manifestDigest).toBe(firstDigest);

    await pushHello(repository, 'changed after registration');
    const moved = await request(server)
      .post('/api/deployments/charts')
      .send({ reference, version: '0.1.0' });
    expect(moved.status).toBe(409);
    expect(moved.body.error.message).toMatch(/tag moved/);

    const still = await request(server).get(
      `/api/deployments/charts/${first.body.id}`,
    );
    expect(still.body.chartDigest).toBe(first.body.chartDigest);
  });

  it('refuses link-local, metadata and loopback registries that are not allowed', async () => {
    const server = await backend(await databases.init(databaseId), {
      allowLoopback: false,
    });
    for (const reference of [
      'oci://169.254.169.254/charts/hello:0.1.0',
      'oci://169.254.10.1/charts/hello:0.1.0',
      'oci://metadata.google.internal/charts/hello:0.1.0',
      `oci://${stack.registry}/charts/hello:0.1.0`,
    ]) {
      const response = await request(server)
        .post('/api/deployments/charts')
        .send({ reference });
      expect({ reference, status: response.status }).toEqual({
        reference,
        status: 400,
      });
      expect(response.body.error.message).toMatch(/Refusing to contact/);
    }
    const list = await request(server).get('/api/deployments/charts');
    expect(list.body.totalCount).toBe(0);
  });

  it('registers from a registry with basic auth using credentials sealed under the keyring', async () => {
    const knex = await databases.init(databaseId);
    const server = await backend(knex, { allowLoopback: true });
    const reference = `oci://${stack.authRegistry}/charts/hello`;

    const anonymous = await request(server)
      .post('/api/deployments/charts')
      .send({ reference, version: '0.1.0' });
    expect(anonymous.status).toBe(403);

    await request(server)
      .post('/api/deployments/keyring/bootstrap')
      .send({ passphrase: 'Registry credentials 2026!' })
      .expect(201);
    const stored = await request(server)
      .put(
        `/api/deployments/registries/${encodeURIComponent(
          stack.authRegistry,
        )}/credentials`,
      )
      .send({ username: stack.registryUser, password: stack.registryPassword });
    expect(stored.status).toBe(200);
    expect(JSON.stringify(stored.body)).not.toContain(stack.registryPassword);

    const registered = await request(server)
      .post('/api/deployments/charts')
      .send({ reference, version: '0.1.0' });
    expect(registered.status).toBe(201);
    expect(registered.body.manifestDigest).toBe(
      stack.pushedDigests.get(`${stack.authRegistry}/hello`),
    );

    const rows = JSON.stringify(await knex('deployments_registries'));
    expect(rows).not.toContain(stack.registryPassword);
    expect(rows).not.toContain(
      Buffer.from(stack.registryPassword).toString('base64'),
    );

    const listed = await request(server).get('/api/deployments/registries');
    expect(listed.body.items).toEqual([
      expect.objectContaining({ host: stack.authRegistry, authKind: 'basic' }),
    ]);
  });
});

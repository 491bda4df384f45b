/*
 * Starts the real deployments backend plugin in-process for a benchmark,
 * the way plugins/deployments-backend/src/plans/planWorkflow.test.ts does
 * (startTestBackend with a real database, config and a mock catalog), and
 * talks to it over HTTP like a client would.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import knexFactory, { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deploymentsPlugin } from '../../plugins/deployments-backend/src/plugin';
import {
  LocalStack,
  runHelm,
} from '../../plugins/deployments-backend/src/__testUtils__/localStack';
import { mapLimit } from './stats';

/** The one catalog entity the benchmark plans belong to. */
export const BENCH_ENTITY = 'component:default/bench-service';

/** A database of its own for one benchmark run, dropped by `drop()`. */
export interface BenchDatabase {
  knex: Knex;
  /** What the output says about it, e.g. "PostgreSQL 15 (database bench_x)". */
  label: string;
  kind: 'postgres' | 'sqlite';
  drop(): Promise<void>;
}

function postgresConnectionString(): string | undefined {
  // The id is e.g. POSTGRES_15; the variable is BACKSTAGE_TEST_DATABASE_POSTGRES15_...
  const id = (process.env.KUBEDEPLOY_POSTGRES_ID ?? 'POSTGRES_15').replace(
    '_',
    '',
  );
  return process.env[`BACKSTAGE_TEST_DATABASE_${id}_CONNECTION_STRING`];
}

/**
 * PostgreSQL from the local stack (a new database per run) unless
 * BENCH_DATABASE=sqlite or no connection string is set; then in-memory SQLite.
 */
export async function createBenchDatabase(
  name: string,
): Promise<BenchDatabase> {
  const connection = postgresConnectionString();
  const wanted =
    process.env.BENCH_DATABASE ?? (connection ? 'postgres' : 'sqlite');
  if (wanted === 'sqlite') {
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    return {
      knex,
      kind: 'sqlite',
      label: 'SQLite in memory (better-sqlite3)',
      drop: () => knex.destroy(),
    };
  }
  if (wanted !== 'postgres' || !connection) {
    throw new Error(
      'BENCH_DATABASE=postgres needs the stack: eval "$(scripts/stack env)"',
    );
  }
  const database = `bench_${name}_${randomBytes(3).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection });
  const [{ version }] = (
    await admin.raw("select current_setting('server_version') as version")
  ).rows;
  await admin.raw('create database ??', [database]);
  await admin.destroy();
  const url = new URL(connection);
  url.pathname = `/${database}`;
  const knex = knexFactory({ client: 'pg', connection: url.toString() });
  return {
    knex,
    kind: 'postgres',
    label: `PostgreSQL ${version} (database ${database})`,
    drop: async () => {
      await knex.destroy();
      const cleanup = knexFactory({ client: 'pg', connection });
      try {
        await cleanup.raw('drop database if exists ?? with (force)', [
          database,
        ]);
      } finally {
        await cleanup.destroy();
      }
    },
  };
}

/** The JSON a route answered. Bench code reads fields it knows exist. */
export type Json = Record<string, any>;

/** A small HTTP client for the plugin's API (keep-alive fetch). */
export class BenchApi {
  private constructor(readonly baseUrl: string) {}

  static create(baseUrl: string): BenchApi {
    return new BenchApi(baseUrl);
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Json = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed };
  }

  /** Calls a route and fails with the answer's error message unless it returned `status`. */
  async expect(
    status: number,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Json> {
    const answer = await this.call(method, path, body);
    if (answer.status !== status) {
      throw new Error(
        `${method} ${path}: expected ${status}, got ${answer.status}: ${
          answer.body.error?.message ??
          JSON.stringify(answer.body).slice(0, 300)
        }`,
      );
    }
    return answer.body;
  }

  /** Polls an operation until it is no longer running. */
  async waitForOperation(
    id: string,
    pollMs = 50,
    timeoutMs = 600_000,
  ): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { body } = await this.call('GET', `/operations/${id}`);
      if (body.status !== 'running') return body;
      await new Promise(resolve => setTimeout(resolve, pollMs));
    }
    throw new Error(`operation ${id} did not finish in ${timeoutMs / 1000}s`);
  }

  /** POST /plans/{id}/{step} (202) and wait; the time covers both. */
  async runStep(
    planId: string,
    step: 'dry-run' | 'preflight' | 'apply',
    pollMs = 50,
  ): Promise<{ operation: Json; ms: number }> {
    const start = performance.now();
    const started = await this.expect(
      202,
      'POST',
      `/plans/${planId}/${step}`,
      {},
    );
    const operation = await this.waitForOperation(started.id, pollMs);
    const elapsed = performance.now() - start;
    if (operation.status !== 'succeeded') {
      throw new Error(
        `${step} of plan ${planId} ended ${operation.status}: ${
          operation.error ?? ''
        }`,
      );
    }
    return { operation, ms: elapsed };
  }
}

export interface BenchBackend {
  api: BenchApi;
  port: number;
  database: BenchDatabase;
  stop(): Promise<void>;
}

/** Starts the plugin with its real services, the given config and one catalog entity. */
export async function startBenchBackend(options: {
  database: BenchDatabase;
  config?: Json;
}): Promise<BenchBackend> {
  const backend = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({ knex: options.database.knex }),
      mockServices.rootConfig.factory({
        data: {
          deployments: {
            registries: { allowLoopback: true },
            ...options.config,
          },
        },
      }),
      catalogServiceMock.factory({
        entities: [
          {
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'Component',
            metadata: { name: 'bench-service', namespace: 'default' },
            spec: { type: 'service', lifecycle: 'production', owner: 'bench' },
          },
        ],
      }),
    ],
  });
  const port = backend.server.port();
  return {
    api: BenchApi.create(`http://127.0.0.1:${port}/api/deployments`),
    port,
    database: options.database,
    stop: async () => {
      await backend.stop();
      await options.database.drop();
    },
  };
}

/**
 * Bootstraps the keyring (random passphrase, never printed), creates the
 * target "local" from the stack's admin kubeconfig and registers hello 0.1.0.
 */
export async function prepareDeployments(
  api: BenchApi,
  stack: LocalStack,
): Promise<{ chartId: string; target: string }> {
  await api.expect(201, 'POST', '/keyring/bootstrap', {
    passphrase: randomBytes(24).toString('base64url'),
  });
  await api.expect(201, 'POST', '/targets', {
    name: 'local',
    allowedNamespaces: ['team-a', 'team-b'],
    credentials: {
      authKind: 'kubeconfig',
      kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
    },
  });
  const chart = await api.expect(201, 'POST', '/charts', {
    reference: `oci://${stack.registry}/charts/hello`,
    version: '0.1.0',
  });
  return { chartId: chart.id, target: 'local' };
}

/** A profile and a plan for `releaseName` in team-a; returns their ids. */
export async function createPlan(
  api: BenchApi,
  input: {
    chartId: string;
    releaseName: string;
    values: Json;
    timeoutSeconds?: number;
  },
): Promise<{ planId: string; profileId: string }> {
  const profile = await api.expect(201, 'POST', '/profiles', {
    chartId: input.chartId,
    name: input.releaseName,
    values: input.values,
  });
  const plan = await api.expect(201, 'POST', '/plans', {
    entityRef: BENCH_ENTITY,
    chartId: input.chartId,
    target: 'local',
    namespace: 'team-a',
    releaseName: input.releaseName,
    profileId: profile.id,
    options: { timeoutSeconds: input.timeoutSeconds ?? 120 },
  });
  return { planId: plan.id, profileId: profile.id };
}

/** Uninstalls releases by hand with the admin kubeconfig; errors are printed, not thrown. */
export async function uninstallReleases(
  stack: LocalStack,
  releases: string[],
  namespace = 'team-a',
): Promise<void> {
  await mapLimit(releases, 4, async release => {
    try {
      await runHelm(
        ['uninstall', release, '-n', namespace, '--ignore-not-found', '--wait'],
        { kubeconfig: stack.adminKubeconfigPath },
      );
    } catch (error) {
      console.error(
        `cleanup: helm uninstall ${release} failed: ${
          (error as Error).message.split('\n')[0]
        }`,
      );
    }
  });
}

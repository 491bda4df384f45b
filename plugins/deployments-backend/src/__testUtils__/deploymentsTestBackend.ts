/*
 * The deployments plugin in a test backend, driven through its HTTP API the
 * way the portal drives it: the setup most integration tests share (a
 * database, config, a catalog with the entity plans belong to, the keyring,
 * a target with the local stack's admin kubeconfig, a chart from the local
 * registry, a plan) and the wait for an operation to finish.
 */
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';
import { LocalStack } from './localStack';

export const API = '/api/deployments';
export const ENTITY_REF = 'component:default/payments-api';
export const PASSPHRASE = 'correct horse battery staple 42';

export type TestServer = Parameters<typeof request>[0];

type Feature = Parameters<typeof startTestBackend>[0]['features'] extends
  | Array<infer F>
  | undefined
  ? F
  : never;

/** The component plans belong to, owned by `owner`. */
export function paymentsApi(owner = 'x'): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'payments-api', namespace: 'default' },
    spec: { type: 'service', lifecycle: 'production', owner },
  };
}

/**
 * payments-api owned by group payments, whose member is carol, and the
 * users named (by the notifications backend, which resolves owners to
 * people through these relations).
 */
export function paymentsTeam(users: string[]): Entity[] {
  return [
    {
      ...paymentsApi('payments'),
      relations: [{ type: 'ownedBy', targetRef: 'group:default/payments' }],
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'payments', namespace: 'default' },
      spec: { type: 'team', children: [] },
      relations: [{ type: 'hasMember', targetRef: 'user:default/carol' }],
    },
    ...users.map(name => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name, namespace: 'default' },
      spec: {},
    })),
  ];
}

/** Each plugin gets its own database, as in a real backend. */
export function databasePerPlugin(knexes: Record<string, Knex>) {
  return createServiceFactory({
    service: coreServices.database,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }) => {
      const knex = knexes[plugin.getId()];
      if (!knex) throw new Error(`no test database for ${plugin.getId()}`);
      return { getClient: async () => knex };
    },
  });
}

/**
 * Starts the plugin on `knex` with loopback registries allowed and 1 s
 * heartbeats; `deployments` is merged over that, `features` are added.
 */
export async function startDeploymentsBackend(options: {
  knex: Knex;
  deployments?: JsonObject;
  entities?: Entity[];
  features?: Feature[];
}): Promise<{ server: TestServer }> {
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({ knex: options.knex }),
      mockServices.rootConfig.factory({
        data: {
          deployments: {
            registries: { allowLoopback: true },
            operations: { heartbeatSeconds: 1 },
            ...options.deployments,
          },
        },
      }),
      catalogServiceMock.factory({
        entities: options.entities ?? [paymentsApi()],
      }),
      ...(options.features ?? []),
    ],
  });
  return { server };
}

/** Setup steps must succeed; a failure names the response. */
export function ensure(
  response: { status: number; body: unknown },
  status = 201,
): void {
  if (response.status !== status) {
    throw new Error(
      `setup failed: ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
}

/** Bootstraps the keyring (RSA-4096: a few seconds). */
export async function bootstrapKeyring(server: TestServer): Promise<void> {
  ensure(
    await request(server)
      .post(`${API}/keyring/bootstrap`)
      .send({ passphrase: PASSPHRASE }),
  );
}

/** A target reaching the local stack with its admin kubeconfig. */
export async function createAdminTarget(
  server: TestServer,
  stack: LocalStack,
  target: JsonObject & { name: string; allowedNamespaces: string[] },
  headers: Record<string, string> = {},
): Promise<void> {
  ensure(
    await request(server)
      .post(`${API}/targets`)
      .set(headers)
      .send({
        ...target,
        credentials: {
          authKind: 'kubeconfig',
          kubeconfig: readFileSync(stack.adminKubeconfigPath, 'utf8'),
        },
      }),
  );
}

/** Registers one of the local registry's charts; returns its id. */
export async function registerChart(
  server: TestServer,
  stack: LocalStack,
  name = 'hello',
  version = '0.1.0',
): Promise<string> {
  const chart = await request(server)
    .post(`${API}/charts`)
    .send({ reference: `oci://${stack.registry}/charts/${name}`, version });
  ensure(chart);
  return chart.body.id;
}

/** Creates a plan for payments-api; returns its id. */
export async function createPlan(
  server: TestServer,
  plan: JsonObject & {
    chartId: string;
    target: string;
    namespace: string;
    releaseName: string;
  },
  headers: Record<string, string> = {},
): Promise<string> {
  const created = await request(server)
    .post(`${API}/plans`)
    .set(headers)
    .send({
      entityRef: ENTITY_REF,
      options: { timeoutSeconds: 120 },
      ...plan,
    });
  ensure(created);
  return created.body.id;
}

/** An operation as `GET /operations/{id}` answers it. */
export type OperationBody = {
  id: string;
  status: string;
  error?: string;
  result?: any;
} & Record<string, any>;

/** Polls an operation until it is no longer running (5 minutes at most). */
export async function waitForOperation(
  server: TestServer,
  operationId: string,
): Promise<OperationBody> {
  for (let i = 0; i < 600; i++) {
    const response = await request(server).get(
      `${API}/operations/${operationId}`,
    );
    if (response.body.status !== 'running') return response.body;
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

/** Runs one step of a plan (dry-run, preflight, apply, …) and throws unless it succeeded. */
export async function runStep(
  server: TestServer,
  planId: string,
  step: string,
  body: object = {},
) {
  const started = await request(server)
    .post(`${API}/plans/${planId}/${step}`)
    .send(body);
  ensure(started, 202);
  const finished = await waitForOperation(server, started.body.id);
  if (finished.status !== 'succeeded') {
    throw new Error(`${step} ${finished.status}: ${finished.error}`);
  }
  return finished;
}

/** Dry-run, preflight and apply, each of which must succeed. */
export async function deploy(server: TestServer, planId: string) {
  await runStep(server, planId, 'dry-run');
  await runStep(server, planId, 'preflight');
  return runStep(server, planId, 'apply');
}

/*
 * The action against the real deployments backend (in-process, on SQLite)
 * with hello registered from the local stack's registry.
 */
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import deploymentsPlugin from '@kubedeploy/plugin-deployments-backend';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { createPlanAction } from './createPlan';

jest.setTimeout(120_000);

const user = 'user:default/template-user';

/** The mock context ignores an initiator override: set it afterwards. */
function asUser<T extends object>(ctx: T): T {
  return {
    ...ctx,
    getInitiatorCredentials: async () => mockCredentials.user(user),
  };
}

describe('deployments:plan:create', () => {
  it('creates the plan on behalf of the template user, once, and starts its dry-run', async () => {
    const env = process.env;
    if (!env.KUBEDEPLOY_KUBECONFIG || !env.KUBEDEPLOY_REGISTRY) {
      throw new Error('The local stack is not running: use scripts/test');
    }
    const { server } = await startTestBackend({
      features: [
        deploymentsPlugin,
        mockServices.rootConfig.factory({
          data: { deployments: { registries: { allowLoopback: true } } },
        }),
        catalogServiceMock.factory({
          entities: [
            {
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: { name: 'payments-api', namespace: 'default' },
              spec: { type: 'service', owner: 'payments' },
            },
          ],
        }),
      ],
    });
    const baseUrl = `http://127.0.0.1:${
      (server.address() as AddressInfo).port
    }/api/deployments`;
    const call = async (method: string, path: string, body?: object) => {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: mockCredentials.user.header(user),
          'content-type': 'application/json',
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, body: await response.json() };
    };
    expect(
      (
        await call('POST', '/keyring/bootstrap', {
          passphrase: 'correct horse battery staple 42',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', '/targets', {
          name: 'local',
          allowedNamespaces: ['team-a'],
          credentials: {
            authKind: 'kubeconfig',
            kubeconfig: readFileSync(env.KUBEDEPLOY_KUBECONFIG, 'utf8'),
          },
        })
      ).status,
    ).toBe(201);
    const chart = await call('POST', '/charts', {
      reference: `oci://${env.KUBEDEPLOY_REGISTRY}/charts/hello`,
      version: '0.1.0',
    });
    await call('POST', '/profiles', {
      chartId: chart.body.id,
      name: 'demo',
      values: { greeting: 'from a template' },
    });

    // The action gets a token on behalf of the user who runs the template.
    const action = createPlanAction({
      discovery: {
        getBaseUrl: async () => baseUrl,
        getExternalBaseUrl: async () => baseUrl,
      },
      auth: {
        ...mockServices.auth(),
        getPluginRequestToken: async ({
          onBehalfOf,
        }: {
          onBehalfOf: BackstageCredentials;
        }) => ({
          token: mockCredentials.user.token(
            (onBehalfOf.principal as { userEntityRef: string }).userEntityRef,
          ),
        }),
      } as never,
    });
    const input = {
      entityRef: 'component:default/payments-api',
      chart: 'hello',
      version: '0.1.0',
      target: 'local',
      namespace: 'team-a',
      releaseName: 'payments-api-from-template',
      profile: 'demo',
      startDryRun: true,
    };
    const ctx = asUser(createMockActionContext({ input }));
    await action.handler(ctx);
    const planId = (ctx.output as jest.Mock).mock.calls.find(
      ([name]) => name === 'planId',
    )[1];
    const plan = await call('GET', `/plans/${planId}`);
    expect(plan.body).toMatchObject({
      entityRef: 'component:default/payments-api',
      releaseName: 'payments-api-from-template',
      createdBy: user,
      profileId: expect.any(String),
    });
    expect(ctx.output).toHaveBeenCalledWith(
      'dryRunOperationId',
      expect.any(String),
    );

    // A rerun finds the plan instead of failing on the duplicate.
    const again = asUser(
      createMockActionContext({ input: { ...input, startDryRun: false } }),
    );
    await action.handler(again);
    expect(again.output).toHaveBeenCalledWith('planId', planId);

    // Unknown charts and profiles are clear input errors.
    const unknown = asUser(
      createMockActionContext({ input: { ...input, version: '9.9.9' } }),
    );
    await expect(action.handler(unknown)).rejects.toThrow(/not registered/);
  });
});

import {
  coreServices,
  createBackendModule,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import {
  DeploymentPreflightCheck,
  deploymentsPreflightExtensionPoint,
} from './extensions';

describe('deploymentsPreflightExtensionPoint', () => {
  it('hands checks added by a module to the plugin that owns the point', async () => {
    const received: DeploymentPreflightCheck[] = [];

    const owner = createBackendPlugin({
      pluginId: 'deployments',
      register(env) {
        env.registerExtensionPoint(deploymentsPreflightExtensionPoint, {
          addPreflightCheck: (...checks) => received.push(...checks),
        });
        env.registerInit({ deps: { logger: coreServices.logger }, async init() {} });
      },
    });

    const module = createBackendModule({
      pluginId: 'deployments',
      moduleId: 'labels',
      register(env) {
        env.registerInit({
          deps: { preflight: deploymentsPreflightExtensionPoint },
          async init({ preflight }) {
            preflight.addPreflightCheck({
              id: 'team-label',
              title: 'Objects carry a team label',
              async run({ objects }) {
                const missing = objects.filter(
                  o => !(o.metadata as any)?.labels?.team,
                );
                return {
                  passed: missing.length === 0,
                  message: `${missing.length} objects lack a team label`,
                };
              },
            });
          },
        });
      },
    });

    await startTestBackend({ features: [owner, module] });

    expect(received.map(c => c.id)).toEqual(['team-label']);
    await expect(
      received[0].run({
        targetName: 'dev',
        namespace: 'team-a',
        releaseName: 'hello',
        objects: [{ metadata: { labels: { team: 'a' } } }, { metadata: {} }],
      }),
    ).resolves.toEqual({ passed: false, message: '1 objects lack a team label' });
  });
});

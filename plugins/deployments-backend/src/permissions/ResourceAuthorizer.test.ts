/*
 * The permission backend failing or slow is a denial: a request gets 403
 * within the configured bound instead of hanging, and nothing is changed.
 */
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import request from 'supertest';
import { deploymentsPlugin } from '../plugin';

jest.setTimeout(60_000);

const TIMEOUT_MS = 300;

async function startWith(
  permissions: ReturnType<typeof mockServices.permissions.mock>,
) {
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      permissions.factory,
      mockServices.rootConfig.factory({
        data: { deployments: { permissions: { timeoutMs: TIMEOUT_MS } } },
      }),
    ],
  });
  return server;
}

describe('ResourceAuthorizer with a failing permission backend', () => {
  it('denies with 403 within the bound when the permission backend never answers', async () => {
    const never = () => new Promise<never>(() => {});
    const server = await startWith(
      mockServices.permissions.mock({
        authorize: never,
        authorizeConditional: never,
      }),
    );

    for (const call of [
      () => request(server).get('/api/deployments/targets'),
      () => request(server).get('/api/deployments/targets/dev'),
      () =>
        request(server)
          .post('/api/deployments/targets')
          .send({ name: 'dev', credentials: { authKind: 'token', token: 'x' } }),
    ]) {
      const started = Date.now();
      const response = await call();
      const took = Date.now() - started;
      expect(response.status).toBe(403);
      expect(response.body.error.name).toBe('NotAllowedError');
      expect(took).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(took).toBeLessThan(TIMEOUT_MS + 3000);
    }
  });

  it('denies with 403 when the permission backend throws', async () => {
    const fail = async () => {
      throw new Error('permission backend unreachable');
    };
    const server = await startWith(
      mockServices.permissions.mock({
        authorize: fail,
        authorizeConditional: fail,
      }),
    );

    const list = await request(server).get('/api/deployments/targets');
    expect(list.status).toBe(403);
    const create = await request(server)
      .post('/api/deployments/targets')
      .send({ name: 'dev', credentials: { authKind: 'token', token: 'x' } });
    expect(create.status).toBe(403);
    expect(create.body.error.message).not.toContain('unreachable');
  });
});

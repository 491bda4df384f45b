import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  createDeriveReleaseNameAction,
  deriveReleaseName,
} from './deriveReleaseName';

describe('deployments:release-name:derive', () => {
  it('normalizes a component name', () => {
    expect(deriveReleaseName('Payments_API.v2')).toBe('payments-api-v2');
  });

  it('keeps the suffix when the name must be cut to 53 characters', () => {
    const derived = deriveReleaseName('x'.repeat(80), 'staging');
    expect(derived).toHaveLength(53);
    expect(derived.endsWith('-staging')).toBe(true);
  });

  it('refuses a name with nothing usable', () => {
    expect(() => deriveReleaseName('___')).toThrow(/cannot derive/);
  });

  it('outputs the release name through the action', async () => {
    const action = createDeriveReleaseNameAction();
    const ctx = createMockActionContext({
      input: { name: 'Hello World', suffix: 'dev' },
    });

    await action.handler(ctx);

    expect(ctx.output).toHaveBeenCalledWith('releaseName', 'hello-world-dev');
  });
});

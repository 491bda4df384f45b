import { parseImageReference } from './parseImageReference';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  it('splits host, port, path and tag', () => {
    expect(parseImageReference('127.0.0.1:5000/team/app:1.2.3', {})).toEqual({
      raw: '127.0.0.1:5000/team/app:1.2.3',
      registry: '127.0.0.1:5000',
      repository: 'team/app',
      tag: '1.2.3',
    });
  });

  it('keeps tag and digest of a pinned image', () => {
    expect(
      parseImageReference(`registry.test/app:1.2.3@${DIGEST}`, {}),
    ).toMatchObject({ tag: '1.2.3', digest: DIGEST });
    expect(
      parseImageReference(`registry.test/app@${DIGEST}`, {}),
    ).toMatchObject({ digest: DIGEST });
    expect(
      parseImageReference(`registry.test/app@${DIGEST}`, {}),
    ).not.toHaveProperty('tag');
  });

  it('uses the configured default registry for names without a host', () => {
    expect(
      parseImageReference('nginx:1.27', { defaultRegistry: 'mirror.test' }),
    ).toMatchObject({
      registry: 'mirror.test',
      repository: 'library/nginx',
      tag: '1.27',
    });
    expect(
      parseImageReference('team/app', { defaultRegistry: 'mirror.test' }),
    ).toMatchObject({ repository: 'team/app', tag: 'latest' });
  });

  it('says why it cannot look an image up', () => {
    expect(parseImageReference('nginx:1.27', {})).toEqual({
      problem: expect.stringContaining(
        'deployments.advisories.defaultRegistry',
      ),
    });
    expect(parseImageReference('registry.test/App:1', {})).toEqual({
      problem: expect.stringContaining('not an image reference'),
    });
    expect(parseImageReference('registry.test/app@md5:abc', {})).toEqual({
      problem: expect.stringContaining('not sha256'),
    });
  });
});

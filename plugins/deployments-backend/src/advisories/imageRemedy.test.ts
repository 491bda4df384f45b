import { imageRemedy, imageWithTag, mergeValues } from './imageRemedy';

const running = {
  workload: 'Deployment/web',
  resource: 'deployment',
  container: 'app',
  init: false,
  image: 'registry.test/team/app:1.2.3',
};

const schema = {
  type: 'object',
  properties: {
    image: {
      type: 'object',
      properties: {
        repository: { type: 'string' },
        tag: { type: 'string' },
      },
    },
  },
};

describe('imageRemedy', () => {
  it('changes the value that holds the running tag beside the repository', () => {
    expect(
      imageRemedy({
        running,
        tag: '1.2.3',
        newTag: '1.2.4',
        namespace: 'team-a',
        values: mergeValues(
          { image: { repository: 'registry.test/team/app', tag: '1.0.0' } },
          { image: { tag: '1.2.3' } },
        ),
        valuesSchema: schema,
      }),
    ).toEqual({
      type: 'values',
      valuesPath: 'image.tag',
      from: '1.2.3',
      to: '1.2.4',
      valuesYaml: 'image:\n  tag: 1.2.4\n',
    });
  });

  it('shows the kubectl command when the schema does not expose the value', () => {
    expect(
      imageRemedy({
        running,
        tag: '1.2.3',
        newTag: '1.2.4',
        namespace: 'team-a',
        values: {
          image: { repository: 'registry.test/team/app', tag: '1.2.3' },
        },
      }),
    ).toEqual({
      type: 'command',
      command:
        'kubectl -n team-a set image deployment/web app=registry.test/team/app:1.2.4',
    });
  });

  it('replaces a whole-image value', () => {
    expect(
      imageRemedy({
        running,
        tag: '1.2.3',
        newTag: '1.3.0',
        namespace: 'team-a',
        values: { image: 'registry.test/team/app:1.2.3' },
        valuesSchema: { properties: { image: { type: 'string' } } },
      }),
    ).toMatchObject({
      type: 'values',
      valuesPath: 'image',
      to: 'registry.test/team/app:1.3.0',
    });
  });

  it('drops a digest pin and keeps ports in the host', () => {
    expect(
      imageWithTag(
        `127.0.0.1:5000/app:1.2.3@sha256:${'a'.repeat(64)}`,
        '1.2.4',
      ),
    ).toBe('127.0.0.1:5000/app:1.2.4');
    expect(imageWithTag('127.0.0.1:5000/app', '2.0.0')).toBe(
      '127.0.0.1:5000/app:2.0.0',
    );
  });
});

import { canonicalJson, inputsHash, ReleaseInputs } from './inputsHash';

const inputs: ReleaseInputs = {
  chartDigest: 'sha256:0f1e2d3c',
  values: {
    replicaCount: 1,
    image: { tag: '1.27', repository: 'nginx' },
    env: [],
  },
  targetId: 'target-1',
  credentialsVersion: 3,
  namespace: 'team-a',
  releaseName: 'hello',
  helmFlags: { createNamespace: false, timeoutSeconds: 300 },
};

describe('inputsHash', () => {
  it('is a sha256 in hex, the same every time', () => {
    expect(inputsHash(inputs)).toMatch(/^[0-9a-f]{64}$/);
    expect(inputsHash(inputs)).toBe(inputsHash(structuredClone(inputs)));
  });

  it('does not depend on key order, at any depth', () => {
    const reordered: ReleaseInputs = {
      helmFlags: { timeoutSeconds: 300, createNamespace: false },
      releaseName: 'hello',
      namespace: 'team-a',
      credentialsVersion: 3,
      targetId: 'target-1',
      values: {
        env: [],
        image: { repository: 'nginx', tag: '1.27' },
        replicaCount: 1,
      },
      chartDigest: 'sha256:0f1e2d3c',
    };
    expect(inputsHash(reordered)).toBe(inputsHash(inputs));
  });

  it.each<[string, Partial<ReleaseInputs>]>([
    ['chart digest', { chartDigest: 'sha256:0f1e2d3d' }],
    [
      'a nested value',
      {
        values: {
          ...inputs.values,
          image: { tag: '1.28', repository: 'nginx' },
        },
      },
    ],
    ['a value type', { values: { ...inputs.values, replicaCount: '1' } }],
    ['an added value', { values: { ...inputs.values, debug: false } }],
    ['array order', { values: { ...inputs.values, env: [1, 2] } }],
    ['target', { targetId: 'target-2' }],
    ['credentials version', { credentialsVersion: 4 }],
    ['credentials version type', { credentialsVersion: '3' }],
    ['namespace', { namespace: 'team-b' }],
    ['release name', { releaseName: 'hello2' }],
    [
      'a helm flag',
      { helmFlags: { createNamespace: true, timeoutSeconds: 300 } },
    ],
  ])('changes with the %s', (_name, change) => {
    expect(inputsHash({ ...inputs, ...change })).not.toBe(inputsHash(inputs));
  });

  it('keeps parts apart: a value cannot pose as another part', () => {
    expect(
      inputsHash({ ...inputs, namespace: 'team-a', releaseName: 'b' }),
    ).not.toBe(
      inputsHash({ ...inputs, namespace: 'team-ab', releaseName: '' }),
    );
  });

  it('refuses what is not plain JSON', () => {
    expect(() =>
      inputsHash({ ...inputs, values: { when: new Date() as never } }),
    ).toThrow(/\$.values.when is not plain JSON data/);
    expect(() => inputsHash({ ...inputs, values: { n: Number.NaN } })).toThrow(
      /not a finite number/,
    );
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => inputsHash({ ...inputs, values: loop as never })).toThrow(
      /refers to itself/,
    );
    expect(() =>
      inputsHash({ ...inputs, releaseName: undefined as never }),
    ).toThrow(/lack releaseName/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys, keeps array order and leaves undefined members out', () => {
    expect(canonicalJson({ b: [2, 1], a: { d: undefined, c: 'x' } })).toBe(
      '{"a":{"c":"x"},"b":[2,1]}',
    );
  });
});

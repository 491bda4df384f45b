import { resolve } from 'node:path';
import { runHelm } from '../../__testUtils__/localStack';
import { MANIFEST_LIMITS } from './parseManifestYaml';
import { parseRenderedRelease } from './parseRenderedRelease';

const charts = resolve(__dirname, '../../../../../examples/charts');

function inputErrorMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect((error as Error).name).toBe('InputError');
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('parseRenderedRelease', () => {
  it('reads what helm template renders, with each template path', async () => {
    const { stdout } = await runHelm([
      'template',
      't-manifest-parse',
      resolve(charts, 'hello'),
      '--namespace',
      'team-a',
      '--set',
      'apiToken=not-a-real-token',
    ]);
    const objects = parseRenderedRelease({ manifest: stdout, hooks: [] });
    expect(objects.map(({ source, object }) => [source, object.kind])).toEqual([
      ['hello/templates/secret.yaml', 'Secret'],
      ['hello/templates/configmap.yaml', 'ConfigMap'],
      ['hello/templates/service.yaml', 'Service'],
      ['hello/templates/deployment.yaml', 'Deployment'],
    ]);
    expect(objects[3].hook).toBeUndefined();
    expect(objects[3].object).toMatchObject({
      apiVersion: 'apps/v1',
      metadata: { name: 't-manifest-parse' },
      spec: { replicas: 1 },
    });
  });

  it('adds hooks with their path and events, and skips empty documents', () => {
    const objects = parseRenderedRelease({
      manifest: [
        '---',
        '# Source: app/templates/a.yaml',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: a }',
        '---',
        '---',
        '# Source: app/templates/empty.yaml',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: b }',
        '',
      ].join('\n'),
      hooks: [
        {
          name: 'migrate',
          kind: 'Job',
          path: 'app/templates/migrate.yaml',
          manifest:
            '# Source: app/templates/migrate.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n',
          events: ['pre-install', 'pre-upgrade'],
        },
      ],
    });
    expect(objects).toEqual([
      {
        source: 'app/templates/a.yaml',
        object: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'a' },
        },
      },
      {
        // A document with no Source comment of its own keeps the last one seen.
        source: 'app/templates/empty.yaml',
        object: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'b' },
        },
      },
      {
        source: 'app/templates/migrate.yaml',
        hook: ['pre-install', 'pre-upgrade'],
        object: {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'migrate' },
        },
      },
    ]);
  });

  it('reads YAML 1.1 scalars the way the API server does', () => {
    const [{ object }] = parseRenderedRelease({
      manifest:
        'apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: on\n  mode: 0644\n  date: 2024-01-02\n',
      hooks: [],
    });
    expect(object.spec).toEqual({
      hostNetwork: true,
      mode: 420,
      date: '2024-01-02',
    });
  });

  it('refuses a release over the size cap, saying which cap', () => {
    const big = 'x'.repeat(MANIFEST_LIMITS.maxBytes / 2 + 1);
    expect(
      inputErrorMessage(() =>
        parseRenderedRelease({
          manifest: `a: ${big}\n`,
          hooks: [
            {
              name: 'h',
              kind: 'Job',
              path: 'h',
              manifest: `b: ${big}\n`,
              events: [],
            },
          ],
        }),
      ),
    ).toMatch(/larger than 8 MiB \(rendered size cap\)/);
  });

  it('refuses a release over the object count cap, hooks included', () => {
    const object = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n';
    const manifest = Array.from(
      { length: MANIFEST_LIMITS.maxObjects },
      () => object,
    ).join('---\n');
    expect(parseRenderedRelease({ manifest, hooks: [] })).toHaveLength(
      MANIFEST_LIMITS.maxObjects,
    );
    expect(
      inputErrorMessage(() =>
        parseRenderedRelease({
          manifest,
          hooks: [
            {
              name: 'h',
              kind: 'ConfigMap',
              path: 'h',
              manifest: object,
              events: ['post-install'],
            },
          ],
        }),
      ),
    ).toMatch(/more than 1000 objects \(object count cap\)/);
  });

  it('refuses a flood of empty documents, saying which cap', () => {
    expect(
      inputErrorMessage(() =>
        parseRenderedRelease({
          manifest: '---\n'.repeat(MANIFEST_LIMITS.maxDocuments + 1),
          hooks: [],
        }),
      ),
    ).toMatch(/more than 10000 YAML documents \(document count cap\)/);
  });

  it.each([
    [
      'custom tags',
      'apiVersion: v1\nkind: ConfigMap\ndata: !!js/function "x"\n',
      /TAG_RESOLVE_FAILED/,
    ],
    [
      'binary tags',
      'apiVersion: v1\nkind: ConfigMap\ndata: !!binary aGk=\n',
      /TAG_RESOLVE_FAILED/,
    ],
    [
      'duplicate keys',
      'apiVersion: v1\nkind: ConfigMap\nkind: Secret\n',
      /DUPLICATE_KEY at line 3/,
    ],
    ['broken YAML', 'apiVersion: v1\nkind: [ConfigMap\n', /not valid YAML/],
    [
      'a list document',
      '- a\n- b\n',
      /document 1 from manifest is not a Kubernetes object/,
    ],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(
            98 + i,
          )} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(', ')}]`,
      ).join('\n')}\n`,
      /uses a YAML (alias|anchor)/,
    ],
  ])('refuses %s without echoing content', (_name, manifest, expected) => {
    const message = inputErrorMessage(() =>
      parseRenderedRelease({ manifest, hooks: [] }),
    );
    expect(message).toMatch(expected);
    expect(message).not.toContain('js/function "x"');
  });

  it('refuses input that is not a rendered release', () => {
    expect(
      inputErrorMessage(() =>
        parseRenderedRelease({ manifest: undefined, hooks: [] } as never),
      ),
    ).toMatch(/needs a manifest and hooks/);
  });
});

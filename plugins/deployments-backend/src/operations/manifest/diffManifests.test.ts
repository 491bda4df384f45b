import { diffManifests } from './diffManifests';
import {
  redactManifestYaml,
  redactSecretObject,
  secretMarker,
} from './redactSecretObject';

const key = Buffer.from('a fixed key for tests');
const configMap = (greeting: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n  namespace: team-a\ndata:\n  greeting: ${greeting}\n`;
const secret = (token: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: hello\ntype: Opaque\nstringData:\n  apiToken: ${token}\ndata:\n  password: ${Buffer.from(
    `${token}-pw`,
  ).toString('base64')}\n`;
const service =
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: hello\nspec:\n  ports:\n    - port: 80\n';

describe('diffManifests', () => {
  it('reports every object of a first install as added', () => {
    const changes = diffManifests(
      undefined,
      `${configMap('hi')}---\n${service}`,
    );
    expect(changes.map(({ key: k, change }) => [k, change])).toEqual([
      ['v1/ConfigMap/team-a/hello', 'added'],
      ['v1/Service/hello', 'added'],
    ]);
    expect(changes[0].diff).toContain('+  greeting: hi');
    expect(changes[0].diff).toContain('--- v1/ConfigMap/team-a/hello\tcurrent');
  });

  it('reports added, changed, removed and unchanged objects', () => {
    const changes = diffManifests(
      `${configMap('hi')}---\n${service}`,
      `---\n# Source: hello/templates/configmap.yaml\n${configMap(
        'hello',
      )}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hello\n`,
    );
    expect(changes.map(({ key: k, change }) => [k, change])).toEqual([
      ['v1/ConfigMap/team-a/hello', 'changed'],
      ['apps/v1/Deployment/hello', 'added'],
      ['v1/Service/hello', 'removed'],
    ]);
    expect(changes[0].diff).toContain('-  greeting: hi\n+  greeting: hello\n');
    expect(changes[2].diff).toContain('-kind: Service');
  });

  it('does not count key order as a change', () => {
    const reordered =
      'kind: ConfigMap\napiVersion: v1\ndata:\n  greeting: hi\nmetadata:\n  namespace: team-a\n  name: hello\n';
    expect(diffManifests(configMap('hi'), reordered)).toEqual([
      { key: 'v1/ConfigMap/team-a/hello', change: 'unchanged' },
    ]);
  });

  it('shows that a Secret changed without showing its values', () => {
    const [change] = diffManifests(
      secret('old-token-value'),
      secret('new-token-value'),
      {
        key,
      },
    );
    expect(change.change).toBe('changed');
    expect(change.diff).not.toMatch(/token-value/);
    expect(change.diff).not.toContain(
      Buffer.from('old-token-value-pw').toString('base64'),
    );
    expect(change.diff).not.toContain(
      Buffer.from('new-token-value-pw').toString('base64'),
    );
    expect(change.diff).toContain(
      `-  apiToken: ${secretMarker(Buffer.from('old-token-value'), { key })}`,
    );
    expect(change.diff).toContain(
      `+  apiToken: ${secretMarker(Buffer.from('new-token-value'), { key })}`,
    );
    expect(diffManifests(secret('same'), secret('same'))).toEqual([
      { key: 'v1/Secret/hello', change: 'unchanged' },
    ]);
  });

  it('redacts added and removed Secrets too', () => {
    const changes = [
      ...diffManifests(undefined, secret('brand-new-value')),
      ...diffManifests(secret('going-away-value'), service),
    ];
    for (const change of changes) {
      expect(change.diff).not.toMatch(/brand-new-value|going-away-value/);
      for (const value of ['brand-new-value-pw', 'going-away-value-pw']) {
        expect(change.diff).not.toContain(
          Buffer.from(value).toString('base64'),
        );
      }
    }
    expect(
      changes.filter(c => c.key === 'v1/Secret/hello').map(c => c.change),
    ).toEqual(['added', 'removed']);
  });

  it('keeps duplicates apart instead of losing one', () => {
    expect(
      diffManifests(undefined, `${service}---\n${service}`).map(c => c.key),
    ).toEqual(['v1/Service/hello', 'v1/Service/hello (2)']);
  });

  it('refuses manifests that are not data', () => {
    expect(() => diffManifests(undefined, 'a: !!js/function x\n')).toThrow(
      /not valid YAML/,
    );
  });
});

describe('redactSecretObject', () => {
  const object = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data: { a: Buffer.from('same value').toString('base64'), n: 5 },
    stringData: { b: 'same value' },
  };

  it('replaces every value with a keyed marker, equal for equal content', () => {
    const redacted = redactSecretObject(object, { key });
    const marker = secretMarker(Buffer.from('same value'), { key });
    expect(marker).toMatch(/^\(hmac-sha256:[0-9a-f]{12}\)$/);
    expect(redacted).toEqual({
      ...object,
      data: { a: marker, n: expect.stringMatching(/^\(hmac-sha256:/) },
      stringData: { b: marker },
    });
    // The input is left as it was.
    expect(object.stringData.b).toBe('same value');
  });

  it('depends on the key, so markers cannot be tested against guesses without it', () => {
    expect(secretMarker(Buffer.from('x'), { key })).not.toBe(
      secretMarker(Buffer.from('x'), { key: Buffer.from('another key') }),
    );
    // Without a key, one random key per process: stable within the process.
    expect(secretMarker(Buffer.from('x'))).toBe(secretMarker(Buffer.from('x')));
  });

  it('redacts Secrets inside Lists and leaves other objects alone', () => {
    const visible = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      data: { a: 'visible' },
    };
    expect(redactSecretObject(visible)).toBe(visible);
    const list = redactSecretObject({
      apiVersion: 'v1',
      kind: 'List',
      items: [object, visible],
    });
    expect(JSON.stringify(list)).not.toContain('same value');
    expect(JSON.stringify(list)).toContain('visible');
  });

  it('redacts a whole rendered manifest for display', () => {
    const shown = redactManifestYaml(
      `---\n# Source: hello/templates/secret.yaml\n${secret(
        'plain-text-token',
      )}---\n# Source: hello/templates/service.yaml\n${service}`,
    );
    expect(shown).not.toContain('plain-text-token');
    expect(shown).toContain(
      '# Source: hello/templates/secret.yaml\napiVersion: v1\nkind: Secret',
    );
    expect(shown).toContain(
      '# Source: hello/templates/service.yaml\napiVersion: v1\nkind: Service',
    );
  });
});

import { InputError } from '@backstage/errors';
import { parseChartReference } from './parseChartReference';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseChartReference', () => {
  it('parses host, port, repository, name and tag', () => {
    expect(
      parseChartReference('oci://127.0.0.1:15000/charts/hello:0.1.0'),
    ).toEqual({
      registry: '127.0.0.1:15000',
      repository: 'charts/hello',
      name: 'hello',
      tag: '0.1.0',
    });
  });

  it('parses a digest reference', () => {
    expect(
      parseChartReference(`oci://ghcr.io/org/charts/app@${DIGEST}`),
    ).toEqual({
      registry: 'ghcr.io',
      repository: 'org/charts/app',
      name: 'app',
      digest: DIGEST,
    });
  });

  it('allows neither tag nor digest for tag listing', () => {
    expect(parseChartReference('oci://registry.example.com/hello')).toEqual({
      registry: 'registry.example.com',
      repository: 'hello',
      name: 'hello',
    });
  });

  it('lower-cases the host and accepts an upper-case scheme', () => {
    expect(
      parseChartReference('OCI://Registry.Example.com/a/b:1').registry,
    ).toBe('registry.example.com');
  });

  it('takes the tag from the version option, mapping + to _ like Helm', () => {
    expect(
      parseChartReference('oci://r.example.com/charts/hello', {
        version: '1.0.0+build.5',
      }).tag,
    ).toBe('1.0.0_build.5');
    expect(
      parseChartReference('oci://r.example.com/charts/hello:1.0.0_build', {
        version: '1.0.0+build',
      }).tag,
    ).toBe('1.0.0_build');
  });

  it('accepts repository components with separators', () => {
    expect(
      parseChartReference('oci://r.example.com/my-org/a.b/c__d/e---f/g_h:v1')
        .repository,
    ).toBe('my-org/a.b/c__d/e---f/g_h');
  });

  it('accepts bracketed IPv6 hosts', () => {
    expect(parseChartReference('oci://[::1]:5000/charts/x:1').registry).toBe(
      '[::1]:5000',
    );
  });

  it.each([
    ['https://r.example.com/a:1', /must start with oci:\/\//],
    ['oci://user:pass@r.example.com/a:1', /credentials/],
    ['oci://r.example.com/a:1?x=y', /query/],
    ['oci://r.example.com/a:1#frag', /fragment/],
    ['oci://r.example.com', /missing the repository path/],
    ['oci://r.example.com/', /missing the repository path/],
    ['oci://r_x.example.com/a', /invalid registry host/],
    ['oci://r.example.com:99999/a', /invalid registry port/],
    [
      'oci://r.example.com/Charts/a',
      /invalid repository path component "Charts"/,
    ],
    ['oci://r.example.com/charts//a', /invalid repository path component ""/],
    [
      'oci://r.example.com/charts/../a',
      /invalid repository path component "\.\."/,
    ],
    ['oci://r.example.com/a-/b', /invalid repository path component "a-"/],
    ['oci://r.example.com/a:.bad', /invalid tag "\.bad"/],
    [`oci://r.example.com/a:${'x'.repeat(129)}`, /invalid tag/],
    ['oci://r.example.com/a@sha256:abc', /invalid digest/],
    [`oci://r.example.com/a@md5:${'a'.repeat(32)}`, /invalid digest/],
    [`oci://r.example.com/a:1@${DIGEST}`, /both a tag and a digest/],
    [`oci://r.example.com/${'a/'.repeat(130)}a`, /longer than 255/],
  ])('rejects %s', (ref, message) => {
    expect(() => parseChartReference(ref)).toThrow(InputError);
    expect(() => parseChartReference(ref)).toThrow(message);
  });

  it('rejects a version that conflicts with the tag or digest', () => {
    expect(() =>
      parseChartReference('oci://r.example.com/a:1.0.0', { version: '2.0.0' }),
    ).toThrow(/conflicts with version "2.0.0"/);
    expect(() =>
      parseChartReference(`oci://r.example.com/a@${DIGEST}`, { version: '1' }),
    ).toThrow(/pins a digest/);
    expect(() =>
      parseChartReference('oci://r.example.com/a', { version: '1.0/evil' }),
    ).toThrow(/cannot be used as an OCI tag/);
  });
});

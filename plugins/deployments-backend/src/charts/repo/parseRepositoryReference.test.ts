import { InputError } from '@backstage/errors';
import {
  parseRepositoryReference,
  redactReference,
} from './parseRepositoryReference';

describe('parseRepositoryReference', () => {
  it('takes the repository URL and the chart apart', () => {
    expect(
      parseRepositoryReference('https://Charts.Example.com/stable/', 'hello'),
    ).toEqual({
      url: 'https://charts.example.com/stable',
      chart: 'hello',
      reference: 'https://charts.example.com/stable/hello',
    });
  });

  it('reads the chart from the last path segment, so a recorded reference can be given back', () => {
    const recorded = parseRepositoryReference(
      'http://127.0.0.1:8080/repo',
      'hello',
    ).reference;
    expect(parseRepositoryReference(recorded)).toEqual({
      url: 'http://127.0.0.1:8080/repo',
      chart: 'hello',
      reference: 'http://127.0.0.1:8080/repo/hello',
    });
    expect(
      parseRepositoryReference('https://charts.example.com/hello'),
    ).toEqual({
      url: 'https://charts.example.com',
      chart: 'hello',
      reference: 'https://charts.example.com/hello',
    });
  });

  it.each([
    ['https://charts.example.com', undefined, /does not name a chart/],
    ['https://charts.example.com/', undefined, /does not name a chart/],
    ['ftp://charts.example.com/x', 'hello', /https:\/\/ or http:\/\//],
    ['https://charts.example.com/x?token=abc', 'hello', /query/],
    ['https://charts.example.com/x#frag', 'hello', /query, fragment/],
    ['https://charts.example.com/x', '../hello', /not a valid chart name/],
    ['https://charts.example.com/x', 'a/b', /not a valid chart name/],
    ['https://charts.example.com/%2e%2e', undefined, /does not name a chart/],
    ['https://charts.example.com/a%2Fb', undefined, /not a valid chart name/],
    ['not a url', 'hello', /whitespace/],
    ['https://', 'hello', /not a valid URL/],
    [`https://charts.example.com/${'a'.repeat(1020)}`, 'hello', /longer/],
  ])('refuses %p with chart %p', (input, chart, message) => {
    expect(() => parseRepositoryReference(input, chart)).toThrow(InputError);
    expect(() => parseRepositoryReference(input, chart)).toThrow(message);
  });

  it('refuses credentials in the URL without echoing them', () => {
    const error = (() => {
      try {
        return parseRepositoryReference(
          'https://robot:s3cret-pw@charts.example.com/stable',
          'hello',
        );
      } catch (e) {
        return e as Error;
      }
    })() as Error;
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/credentials/);
    expect(error.message).not.toContain('s3cret-pw');
  });
});

describe('redactReference', () => {
  it('drops user info, query and fragment', () => {
    expect(
      redactReference('https://robot:pw@charts.example.com/a?token=t#x'),
    ).toBe('https://charts.example.com/a');
    expect(redactReference('oci://user:pw@registry.example/charts/hello')).toBe(
      'oci://registry.example/charts/hello',
    );
    expect(redactReference('oci://registry.example/charts/hello:1.0.0')).toBe(
      'oci://registry.example/charts/hello:1.0.0',
    );
  });
});

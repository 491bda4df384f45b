import { RE2JS } from 're2js';
import { estimateRegexSize } from './schemaRegex';

const patterns = [
  '',
  'abc',
  '^[A-Za-z_][A-Za-z0-9_]*$',
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
  '^.{1,253}$',
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$',
  '(?i)^(debug|info|warn|error)$',
  '^(?P<major>\\d+)\\.(?<minor>\\d+)$',
  '[[:alpha:]]{3,5}[]a]{2}',
  '\\p{L}{10}\\x{41}{20}\\Q{1000}\\E',
  '(a|b){1000}c',
  '[a-z]{0,1000}[b-z]{1000}',
  '(a|aa|aaa|[a-z]){0,1000}[b-z]{1000}',
  '(x+x+)+y',
  '(.*a){1000}b',
  '((a{10}){10}){10}',
  '(?:(?:a|aa){1,1000})b',
  '[a-z]{0,1000}'.repeat(5),
  'a{2,}b{3}c{0}d{,5}',
  '^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4})$',
];

describe('estimateRegexSize', () => {
  it.each(patterns)('bounds what RE2 compiles %s into', pattern => {
    const compiled = RE2JS.compile(pattern).programSize();
    const estimate = estimateRegexSize(pattern);
    expect(estimate).toBeGreaterThanOrEqual(compiled);
    // Close enough not to refuse ordinary patterns.
    expect(estimate).toBeLessThanOrEqual(compiled * 3 + 20);
  });

  it('multiplies nested repetitions without compiling them', () => {
    expect(estimateRegexSize('((a{1000}){1000}){1000}')).toBeGreaterThan(1e9);
    expect(estimateRegexSize('[a-z]{0,1000}'.repeat(100))).toBeGreaterThan(
      200_000,
    );
  });
});

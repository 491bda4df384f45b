import { RJSFSchema } from '@rjsf/utils';
import { valuesValidator } from './valuesValidator';

function messages(schema: RJSFSchema, values: Record<string, unknown>) {
  return valuesValidator
    .validateFormData(values, schema)
    .errors.map(error => `${error.property} ${error.message}`);
}

const schemaWith = (pattern: string): RJSFSchema => ({
  type: 'object',
  properties: { name: { type: 'string', pattern } },
});

describe('valuesValidator', () => {
  it('matches a catastrophic-backtracking pattern in linear time', () => {
    // JavaScript's RegExp would hold the tab for hours on this value.
    const start = performance.now();
    const errors = messages(schemaWith('^(a+)+$'), {
      name: `${'a'.repeat(40)}!`,
    });
    expect(performance.now() - start).toBeLessThan(1000);
    expect(errors).toEqual(['.name must match pattern "^(a+)+$"']);
    expect(messages(schemaWith('^(a+)+$'), { name: 'aaaa' })).toEqual([]);
  });

  it('checks ordinary patterns and patternProperties as before', () => {
    const schema: RJSFSchema = {
      type: 'object',
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      },
      patternProperties: { '^port-': { type: 'integer' } },
    };
    expect(messages(schema, { name: 'ok_1', 'port-http': 80 })).toEqual([]);
    expect(messages(schema, { name: '1bad', 'port-http': 'x' })).toEqual([
      '.name must match pattern "^[A-Za-z_][A-Za-z0-9_]*$"',
      '.port-http must be integer',
    ]);
  });

  it('leaves what RE2 cannot compile, or too long a string, to the backend', () => {
    expect(messages(schemaWith('^(?!admin$)'), { name: 'admin' })).toEqual([]);
    expect(
      messages(schemaWith('^a+$'), { name: 'b'.repeat(64 * 1024 + 1) }),
    ).toEqual([]);
    expect(messages(schemaWith('^a+$'), { name: 'b' })).toHaveLength(1);
  });

  it('leaves patterns too large, or matching too costly, to the backend', () => {
    const huge = `^${'[a-z]{0,1000}'.repeat(10)}$`;
    expect(messages(schemaWith(huge), { name: 'B' })).toEqual([]);
    // About 3,000 instructions × 60,000 characters is more than it may spend.
    const costly = schemaWith('^[a-z]{0,1000}$');
    expect(messages(costly, { name: 'B'.repeat(60_000) })).toEqual([]);
    expect(messages(costly, { name: 'B' })).toHaveLength(1);
  });
});

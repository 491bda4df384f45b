import { checkValuesSchema, VALUES_SCHEMA_LIMITS } from './checkValuesSchema';

describe('checkValuesSchema', () => {
  it('accepts RE2 patterns wherever a schema may carry them', () => {
    expect(() =>
      checkValuesSchema({
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
          labels: {
            patternProperties: { '^[a-z]+(/[a-z]+)?$': { type: 'string' } },
            propertyNames: { pattern: '^\\p{L}+$' },
          },
        },
        $defs: { tag: { pattern: '^(?P<major>\\d+)\\.\\d+$' } },
      }),
    ).not.toThrow();
  });

  it.each([
    [
      'a lookahead',
      { properties: { a: { pattern: '^(?!x)' } } },
      '#/properties/a/pattern',
    ],
    [
      'a backreference',
      { items: [{ pattern: '(a)\\1' }] },
      '#/items/0/pattern',
    ],
    [
      'a lookbehind',
      { $defs: { x: { pattern: '(?<=a)b' } } },
      '#/$defs/x/pattern',
    ],
    ['a \\u escape', { pattern: '^\\u0041$' }, '#/pattern'],
    [
      'a patternProperties key',
      { patternProperties: { '^a(?=b)': {} } },
      '#/patternProperties/^a(?=b)',
    ],
    [
      'a property named like a data keyword',
      { properties: { default: { pattern: '(?=x)' } } },
      '#/properties/default/pattern',
    ],
    [
      'a schema only a $ref reaches',
      { $ref: '#/x~1y', 'x/y': { pattern: '(?=x)' } },
      '#/x~1y/pattern',
    ],
  ])('names the schema path of %s', (_name, schema, path) => {
    expect(() => checkValuesSchema(schema)).toThrow(
      `at ${path} is not RE2 syntax`,
    );
  });

  it('leaves data keywords alone', () => {
    expect(() =>
      checkValuesSchema({
        properties: {
          rule: {
            type: 'object',
            default: { pattern: '(?=not a schema)' },
            examples: [{ pattern: '\\1' }],
            enum: [{ pattern: '(?!x)' }],
          },
          pattern: { type: 'string' },
        },
      }),
    ).not.toThrow();
  });

  it('refuses a pattern too large to compile quickly, before compiling it', () => {
    expect(() =>
      checkValuesSchema({
        properties: { a: { pattern: '[a-z]{0,1000}'.repeat(100) } },
      }),
    ).toThrow(
      /at #\/properties\/a\/pattern is too large: it would compile into about \d+ instructions, more than 10000/,
    );
  });

  it('refuses a schema whose patterns together are too large', () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      properties[`p${i}`] = { pattern: `^${'[a-z]{0,1000}'.repeat(2)}${i}$` };
    }
    expect(() => checkValuesSchema({ properties })).toThrow(
      /its patterns would compile into more than 100000 instructions \(reached at #\/properties\/p\d+\/pattern\)/,
    );
  });

  it('refuses a schema nested too deeply', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < VALUES_SCHEMA_LIMITS.maxDepth; i++) {
      deep = { not: deep };
    }
    expect(() => checkValuesSchema(deep)).toThrow(/nests deeper than 128/);
  });
});

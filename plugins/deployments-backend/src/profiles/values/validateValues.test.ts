import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { coalesceValues, validateValues } from './validateValues';

const chartDir = resolve(__dirname, '../../../../../examples/charts/hello');
const schema = JSON.parse(
  readFileSync(resolve(chartDir, 'values.schema.json'), 'utf8'),
);
const defaults = parse(readFileSync(resolve(chartDir, 'values.yaml'), 'utf8'));

describe('validateValues', () => {
  it('accepts the defaults and a valid override', () => {
    expect(validateValues(schema, defaults, {})).toEqual([]);
    expect(
      validateValues(schema, defaults, {
        replicaCount: 3,
        image: { tag: '1.28' },
      }),
    ).toEqual([]);
  });

  it('lists every violation with its path', () => {
    const violations = validateValues(schema, defaults, {
      replicaCount: 'three',
      image: { pullPolicy: 'Sometimes', repository: '' },
      logLevel: 'loud',
      service: { port: 70000 },
      env: [{ name: '1bad', value: 'x' }, { value: 'no name' }],
      debug: 'yes',
      unknownSetting: true,
    });
    const byPath = Object.fromEntries(violations.map(v => [v.path, v.message]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        '/debug',
        '/env/0/name',
        '/env/1/name',
        '/image/pullPolicy',
        '/image/repository',
        '/logLevel',
        '/replicaCount',
        '/service/port',
        '/unknownSetting',
      ].sort(),
    );
    expect(byPath['/logLevel']).toMatch(/"debug", "info", "warn", "error"/);
    expect(byPath['/env/1/name']).toBe('is required');
  });

  it('reads like help: the field’s title, what it expects and the allowed values, once per field', () => {
    const violations = validateValues(schema, defaults, {
      replicaCount: 'three',
      logLevel: 7,
      service: { port: 70000 },
      debug: 'yes',
    });
    const byPath = Object.fromEntries(violations.map(v => [v.path, v]));
    expect(byPath['/replicaCount']).toEqual({
      path: '/replicaCount',
      title: schema.properties.replicaCount.title ?? 'replicaCount',
      message: 'must be a whole number',
    });
    expect(byPath['/debug'].message).toBe('must be true or false');
    expect(byPath['/service/port'].message).toMatch(/^must be at most \d+$/);
    // A number where a level is expected is wrong twice (type and enum): said once.
    expect(violations.filter(v => v.path === '/logLevel')).toHaveLength(1);
    expect(byPath['/logLevel'].message).toMatch(
      /^must be (text|one of "debug", "info", "warn", "error" \(allowed values\))$/,
    );
  });

  it('reports a required key removed with null', () => {
    expect(validateValues(schema, defaults, { greeting: null })).toEqual([
      { path: '/greeting', title: 'Greeting', message: 'is required' },
    ]);
  });

  it('supports draft 2020-12 schemas and never fetches remote refs', () => {
    const modern = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        ports: { type: 'array', prefixItems: [{ type: 'integer' }] },
      },
    };
    expect(validateValues(modern, {}, { ports: ['x'] })).toEqual([
      {
        path: '/ports/0',
        title: 'ports item 1',
        message: 'must be a whole number',
      },
    ]);
    const remote = { $ref: 'https://example.invalid/schema.json' };
    expect(() => validateValues(remote, {}, {})).toThrow(/cannot be used/);
  });
});

describe('validateValues with hostile schema patterns', () => {
  const schemaWith = (pattern: string) => ({
    type: 'object',
    properties: { name: { type: 'string', pattern } },
  });

  it('matches a catastrophic-backtracking pattern in linear time', () => {
    // JavaScript's RegExp takes ~0.3 s on 26 characters here, doubling with
    // each more: 40 would hold the event loop for hours.
    const testSchema = schemaWith('^(a+)+$');
    const start = performance.now();
    const violations = validateValues(
      testSchema,
      {},
      {
        name: `${'a'.repeat(40)}!`,
      },
    );
    expect(performance.now() - start).toBeLessThan(1000);
    expect(violations).toEqual([
      {
        path: '/name',
        title: 'name',
        message: 'must match the pattern ^(a+)+$',
      },
    ]);
    expect(validateValues(testSchema, {}, { name: 'a'.repeat(40) })).toEqual(
      [],
    );
  });

  it('refuses a pattern RE2 cannot compile, naming its schema path', () => {
    expect(() =>
      validateValues(schemaWith('^(?!root$)'), {}, { name: 'x' }),
    ).toThrow(
      /the regex "\^\(\?!root\$\)" at #\/properties\/name\/pattern is not RE2 syntax/,
    );
    expect(() =>
      validateValues(
        { patternProperties: { '^(a)\\1$': { type: 'string' } } },
        {},
        {},
      ),
    ).toThrow(/at #\/patternProperties\/\^\(a\)\\1\$ is not RE2 syntax/);
  });

  it('matches with RE2 semantics, as Helm does', () => {
    // (?P<name>) is RE2 (and Go) syntax that JavaScript refuses.
    const testSchema = schemaWith('^(?P<major>\\d+)\\.\\d+$');
    expect(validateValues(testSchema, {}, { name: '1.28' })).toEqual([]);
    expect(validateValues(testSchema, {}, { name: 'v1.28' })).toHaveLength(1);
  });

  it('applies patternProperties and propertyNames through RE2', () => {
    const testSchema = {
      type: 'object',
      patternProperties: { '^port-': { type: 'integer' } },
      propertyNames: { pattern: '^[a-z-]+$' },
    };
    expect(validateValues(testSchema, {}, { 'port-http': 80 })).toEqual([]);
    const violations = validateValues(
      testSchema,
      {},
      {
        'port-http': 'eighty',
        Upper: 1,
      },
    );
    expect(new Set(violations.map(v => v.path))).toEqual(
      new Set(['', '/port-http']),
    );
  });

  it('refuses to match a string longer than 64 KiB instead of matching it', () => {
    const long = 'a'.repeat(64 * 1024 + 1);
    expect(validateValues(schemaWith('^a+$'), {}, { name: long })).toEqual([
      {
        path: '/name',
        message:
          'is 65537 characters long; schema patterns are matched against at most 65536',
      },
    ]);
    // Under `not`, answering "no match" would have let the value through.
    const forbidden = {
      type: 'object',
      properties: { name: { not: { pattern: ';' } } },
    };
    expect(validateValues(forbidden, {}, { name: `${long};` })).toHaveLength(1);
    expect(
      validateValues(
        {
          type: 'object',
          properties: {
            nested: { patternProperties: { '^a': { type: 'integer' } } },
          },
        },
        {},
        { nested: { [long]: 'x' } },
      ),
    ).toEqual([
      {
        path: '/nested',
        message:
          'has a key 65537 characters long; schema patterns are matched against at most 65536',
      },
    ]);
  });

  it('refuses values that would take too long to match, whatever their size', () => {
    // About 3,000 instructions against 60,000 characters, three times over.
    const testSchema = {
      type: 'object',
      properties: {
        lines: { type: 'array', items: { pattern: '^[a-z ]{0,1000}$' } },
      },
    };
    const line = 'a'.repeat(60_000);
    expect(() =>
      validateValues(testSchema, {}, { lines: [line, line, line] }),
    ).toThrow(/cannot be checked: matching the values .* more than 67108864/);
    // Each validation starts with the whole budget.
    expect(validateValues(testSchema, {}, { lines: ['ok', 'a b'] })).toEqual(
      [],
    );
  });

  it('leaves long strings no pattern checks alone', () => {
    expect(
      validateValues(
        schemaWith('^a+$'),
        {},
        {
          name: 'aaa',
          config: 'x'.repeat(100 * 1024),
        },
      ),
    ).toEqual([]);
  });
});

describe('coalesceValues', () => {
  it('merges maps deeply, replaces lists, and deletes with null', () => {
    expect(
      coalesceValues(
        { a: { b: 1, c: 2 }, list: [1, 2], gone: 1 },
        { a: { c: 3 }, list: [9], gone: null },
      ),
    ).toEqual({ a: { b: 1, c: 3 }, list: [9] });
  });
});

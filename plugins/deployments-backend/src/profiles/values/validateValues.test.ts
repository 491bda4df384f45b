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

  it('reports a required key removed with null', () => {
    expect(validateValues(schema, defaults, { greeting: null })).toEqual([
      { path: '/greeting', message: 'is required' },
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
      { path: '/ports/0', message: 'must be integer' },
    ]);
    const remote = { $ref: 'https://example.invalid/schema.json' };
    expect(() => validateValues(remote, {}, {})).toThrow(/cannot be used/);
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

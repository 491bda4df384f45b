import {
  chartDefaults,
  maskedValues,
  profileValuesInput,
} from './profileValues';
import {
  mergeValues,
  overridesOf,
  parseValuesYaml,
  secretPathsFromSchema,
  uiSchemaFor,
} from './values';

const defaults = chartDefaults(
  'replicaCount: 1\nimage:\n  repository: nginx\n  tag: "1.27"\nenv: []\napiToken: ""\n',
);

describe('values helpers', () => {
  it('keeps only what differs from the chart defaults', () => {
    const edited = mergeValues(defaults, {
      replicaCount: 2,
      image: { tag: '1.28' },
    });
    expect(overridesOf(edited, defaults)).toEqual({
      replicaCount: 2,
      image: { tag: '1.28' },
    });
    expect(overridesOf(defaults, defaults)).toEqual({});
    // A default removed by the user is removed the way Helm removes keys.
    const { env: _env, ...withoutEnv } = defaults;
    expect(overridesOf(withoutEnv, defaults)).toEqual({ env: null });
  });

  it('finds secret paths the way the backend does', () => {
    expect(
      secretPathsFromSchema({
        type: 'object',
        properties: {
          apiToken: { type: 'string', writeOnly: true },
          db: {
            type: 'object',
            properties: { password: { type: 'string', format: 'password' } },
          },
          name: { type: 'string' },
        },
      }),
    ).toEqual(['/apiToken', '/db/password']);
  });

  it('masks secret fields in the form, saying whether one is stored', () => {
    expect(
      uiSchemaFor(['/db/password', '/apiToken'], new Set(['/apiToken'])),
    ).toMatchObject({
      db: {
        password: { 'ui:widget': 'password', 'ui:placeholder': 'not set' },
      },
      apiToken: {
        'ui:widget': 'password',
        'ui:placeholder': 'set — leave empty to keep the stored value',
      },
    });
  });

  it('sends a secret only when a new value was typed', () => {
    const untouched = profileValuesInput(
      {
        values: mergeValues(defaults, { replicaCount: 3 }),
        secretPaths: ['/apiToken'],
      },
      defaults,
    );
    expect(untouched).toEqual({
      values: { replicaCount: 3 },
      secretPaths: ['/apiToken'],
    });
    const typed = profileValuesInput(
      {
        values: mergeValues(defaults, { apiToken: 'tok-1' }),
        secretPaths: ['/apiToken'],
      },
      defaults,
    );
    expect(typed.values).toEqual({ apiToken: 'tok-1' });
    expect(maskedValues(typed.values, ['/apiToken'], [])).toEqual({
      apiToken: '(secret, new value)',
    });
    expect(maskedValues({}, ['/apiToken'], ['/apiToken'])).toEqual({
      apiToken: '(secret, set)',
    });
  });

  it('parses YAML values and refuses a document that is not a map', () => {
    expect(parseValuesYaml('a: 1\n')).toEqual({ values: { a: 1 } });
    expect(parseValuesYaml('')).toEqual({ values: {} });
    expect(parseValuesYaml('- 1\n')).toEqual({
      error: 'The values must be a YAML map (key: value lines)',
    });
    expect('error' in parseValuesYaml('a: [1\n')).toBe(true);
  });
});

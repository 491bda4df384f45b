import { ValuesProfileInput } from '@kubedeploy/plugin-deployments-common';
import { createTwoFilesPatch } from 'diff';
import { ValuesDraft } from './ValuesForm';
import {
  getAtPointer,
  mergeValues,
  overridesOf,
  parseValuesYaml,
  removeAtPointer,
  setAtPointer,
  Values,
  valuesToYaml,
} from './values';

/** The chart's default values, parsed; `{}` when absent or unreadable. */
export function chartDefaults(defaultValues: string | undefined): Values {
  if (!defaultValues) return {};
  const parsed = parseValuesYaml(defaultValues);
  return 'values' in parsed ? parsed.values : {};
}

/** What the editor starts from: the chart defaults with the profile's values over them. */
export function initialFormValues(
  defaults: Values,
  profileValues: Values | undefined,
): Values {
  return mergeValues(defaults, profileValues ?? {});
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * The request body for a draft: only what differs from the chart defaults,
 * and only the secrets typed in this session (a listed secret without a
 * value keeps the stored one).
 */
export function profileValuesInput(
  draft: ValuesDraft,
  defaults: Values,
): Required<Pick<ValuesProfileInput, 'values' | 'secretPaths'>> {
  let plain = draft.values;
  const secrets: Array<[string, unknown]> = [];
  for (const path of draft.secretPaths) {
    const value = getAtPointer(plain, path);
    if (!isEmpty(value)) secrets.push([path, value]);
    plain = removeAtPointer(plain, path);
  }
  let defaultsWithoutSecrets = defaults;
  for (const path of draft.secretPaths) {
    defaultsWithoutSecrets = removeAtPointer(defaultsWithoutSecrets, path);
  }
  let values = overridesOf(plain, defaultsWithoutSecrets);
  for (const [path, value] of secrets) {
    values = setAtPointer(values, path, value);
  }
  return { values, secretPaths: draft.secretPaths };
}

/** Values for a reader: secrets replaced by a marker saying whether they are set or changed. */
export function maskedValues(
  values: Values,
  secretPaths: string[],
  storedSecretPaths: string[],
): Values {
  let masked = values;
  for (const path of secretPaths) {
    const typed = getAtPointer(values, path);
    if (!isEmpty(typed)) {
      masked = setAtPointer(masked, path, '(secret, new value)');
    } else if (storedSecretPaths.includes(path)) {
      masked = setAtPointer(masked, path, '(secret, set)');
    }
  }
  return masked;
}

/** A unified diff of two values maps as YAML; empty when they are the same. */
export function diffValues(
  before: Values,
  after: Values,
  beforeLabel: string,
  afterLabel: string,
): string {
  const a = valuesToYaml(before);
  const b = valuesToYaml(after);
  if (a === b) return '';
  return createTwoFilesPatch(
    beforeLabel,
    afterLabel,
    a,
    b,
    undefined,
    undefined,
    {
      context: 3,
    },
  );
}

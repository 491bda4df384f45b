// Kubernetes and Helm naming rules, shared so the UI, scaffolder actions and
// the backend refuse the same names with the same messages.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Longest release name Helm accepts (it derives label values from it). @public */
export const MAX_RELEASE_NAME_LENGTH = 53;

/**
 * Returns why `name` is not a valid Kubernetes namespace (a DNS-1123 label),
 * or `undefined` when it is.
 * @public
 */
export function describeInvalidNamespace(name: string): string | undefined {
  if (name.length === 0) {
    return 'a namespace must not be empty';
  }
  if (name.length > 63) {
    return `namespace "${name}" is longer than 63 characters`;
  }
  if (!DNS1123_LABEL.test(name)) {
    return `namespace "${name}" must consist of lower case letters, digits and '-', and start and end with a letter or digit`;
  }
  return undefined;
}

/**
 * Returns why `name` is not a valid Helm release name, or `undefined` when it
 * is. Helm requires a DNS-1123 label of at most 53 characters.
 * @public
 */
export function describeInvalidReleaseName(name: string): string | undefined {
  if (name.length === 0) {
    return 'a release name must not be empty';
  }
  if (name.length > MAX_RELEASE_NAME_LENGTH) {
    return `release name "${name}" is longer than ${MAX_RELEASE_NAME_LENGTH} characters`;
  }
  if (!DNS1123_LABEL.test(name)) {
    return `release name "${name}" must consist of lower case letters, digits and '-', and start and end with a letter or digit`;
  }
  return undefined;
}

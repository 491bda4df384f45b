import { AdvisoryRemedy } from '@kubedeploy/plugin-deployments-common';
import { stringify } from 'yaml';
import { RunningImage } from '../cluster/ReleaseImages';

type Values = Record<string, unknown>;

function isObject(value: unknown): value is Values {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Chart defaults with the plan's values over them, as Helm merges maps. */
export function mergeValues(defaults: Values, overrides: Values): Values {
  const merged: Values = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    merged[key] =
      isObject(value) && isObject(merged[key])
        ? mergeValues(merged[key] as Values, value)
        : value;
  }
  return merged;
}

function stringLeaves(
  values: Values,
  path: string[] = [],
): Array<{ path: string[]; value: string; parent: Values }> {
  const found: Array<{ path: string[]; value: string; parent: Values }> = [];
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string') {
      found.push({ path: [...path, key], value, parent: values });
    } else if (isObject(value)) {
      found.push(...stringLeaves(value, [...path, key]));
    }
  }
  return found;
}

/** Whether the values schema declares the path (a chart without a schema exposes nothing). */
function schemaExposes(
  schema: Record<string, unknown> | undefined,
  path: string[],
): boolean {
  let node: unknown = schema;
  for (const key of path) {
    const properties = isObject(node) ? node.properties : undefined;
    if (!isObject(properties) || !isObject(properties[key])) return false;
    node = properties[key];
  }
  return true;
}

/** The image with another tag and without a digest: what `set image` sets. */
export function imageWithTag(image: string, tag: string): string {
  const withoutDigest = image.split('@')[0];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${name}:${tag}`;
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(word)
    ? word
    : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `kubectl set image` command that runs `image` in the container, for copying. */
export function setImageCommand(
  namespace: string,
  running: RunningImage,
  image: string,
): string {
  const [, name] = running.workload.split('/');
  return [
    'kubectl',
    '-n',
    namespace,
    'set',
    'image',
    `${running.resource}/${name}`,
    `${running.container}=${image}`,
  ]
    .map(shellQuote)
    .join(' ');
}

function fragment(path: string[], value: string): string {
  let node: unknown = value;
  for (const key of [...path].reverse()) node = { [key]: node };
  return stringify(node);
}

/**
 * How to run `newImage` instead of what runs: the values change, when one
 * value the chart's schema declares holds the running tag next to the
 * repository (or the whole image), else the `kubectl set image` command.
 */
export function imageRemedy(options: {
  running: RunningImage;
  /** The running tag, e.g. '1.2.3'. */
  tag: string | undefined;
  newTag: string;
  namespace: string;
  values: Values;
  valuesSchema?: Record<string, unknown>;
}): AdvisoryRemedy {
  const { running, tag, newTag } = options;
  const newImage = imageWithTag(running.image, newTag);
  const repository = imageWithTag(running.image, 'x').slice(0, -2);
  const leaves = stringLeaves(options.values).filter(leaf =>
    schemaExposes(options.valuesSchema, leaf.path),
  );
  // A tag value beside a value naming the repository (image.repository, image.tag).
  const tagValues =
    tag === undefined
      ? []
      : leaves.filter(
          leaf =>
            leaf.value === tag &&
            Object.values(leaf.parent).some(
              sibling =>
                typeof sibling === 'string' &&
                sibling !== tag &&
                repository.endsWith(sibling),
            ),
        );
  if (tagValues.length === 1) {
    const [leaf] = tagValues;
    return {
      type: 'values',
      valuesPath: leaf.path.join('.'),
      from: tag!,
      to: newTag,
      valuesYaml: fragment(leaf.path, newTag),
    };
  }
  // The whole image in one value (image: repo:tag).
  const wholeValues = leaves.filter(leaf => leaf.value === running.image);
  if (tagValues.length === 0 && wholeValues.length === 1) {
    const [leaf] = wholeValues;
    return {
      type: 'values',
      valuesPath: leaf.path.join('.'),
      from: running.image,
      to: newImage,
      valuesYaml: fragment(leaf.path, newImage),
    };
  }
  return {
    type: 'command',
    command: setImageCommand(options.namespace, running, newImage),
  };
}

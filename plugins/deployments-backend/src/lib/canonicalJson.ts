import { InputError } from '@backstage/errors';

/**
 * JSON with object keys sorted at every level, so that equal data always
 * gives the same text. Undefined object members are left out, as in JSON.
 *
 * @throws InputError for values JSON cannot represent exactly
 */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const write = (node: unknown, path: string): string => {
    if (node === null) {
      return 'null';
    }
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return JSON.stringify(node);
      case 'number':
        if (!Number.isFinite(node)) {
          throw new InputError(`${path} is not a finite number`);
        }
        return JSON.stringify(node);
      case 'object':
        break;
      default:
        throw new InputError(`${path} is not JSON data (${typeof node})`);
    }
    const object = node as object;
    if (seen.has(object)) {
      throw new InputError(`${path} refers to itself`);
    }
    seen.add(object);
    let result: string;
    if (Array.isArray(object)) {
      result = `[${object
        .map((item, index) =>
          // JSON writes holes and undefined items as null.
          item === undefined ? 'null' : write(item, `${path}[${index}]`),
        )
        .join(',')}]`;
    } else {
      const prototype = Object.getPrototypeOf(object);
      // Any realm's Object.prototype (whose own prototype is null), so data from a vm or worker passes.
      if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
        throw new InputError(`${path} is not plain JSON data`);
      }
      const record = object as Record<string, unknown>;
      result = `{${Object.keys(record)
        .filter(key => record[key] !== undefined)
        // Code-unit order (the default), independent of locale.
        .sort()
        .map(
          key =>
            `${JSON.stringify(key)}:${write(record[key], `${path}.${key}`)}`,
        )
        .join(',')}}`;
    }
    seen.delete(object);
    return result;
  };
  return write(value, '$');
}

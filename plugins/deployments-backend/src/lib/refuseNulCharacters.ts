import { InputError } from '@backstage/errors';
import { RequestHandler } from 'express';

/**
 * Where the first U+0000 is in a parsed body or query (keys included), as
 * `body.options.x`, or undefined when there is none. Iterative, so a deeply
 * nested body cannot overflow the stack.
 */
export function findNulCharacter(
  root: unknown,
  rootPath: string,
): string | undefined {
  const pending: Array<[unknown, string]> = [[root, rootPath]];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path;
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push([item, `${path}[${i}]`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.includes('\u0000')) return path;
        pending.push([item, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * Refuses a request whose body or query holds a NUL character (U+0000),
 * naming the field. PostgreSQL cannot store one in text, so without this the
 * audit entry of the request failed to write and the API answered 503 for
 * what is bad input.
 */
export const refuseNulCharacters: RequestHandler = (req, _res, next) => {
  const at = /%00/i.test(req.path)
    ? 'path'
    : findNulCharacter(req.body, 'body') ??
      findNulCharacter(req.query, 'query');
  if (at) {
    next(new InputError(`${at} must not contain NUL (U+0000) characters`));
    return;
  }
  next();
};

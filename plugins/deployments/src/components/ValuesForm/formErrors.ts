import {
  explainSchemaError,
  explainsBetter,
  fieldTitle,
} from '@kubedeploy/plugin-deployments-common';
import { RJSFValidationError } from '@rjsf/utils';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';

/** The keys of an rjsf error property: `.a.b`, `a.b`, `.list.0` or `['a.b']`. */
export function propertyKeys(property: string | undefined): string[] {
  if (!property) return [];
  const keys: string[] = [];
  const pattern = /\['((?:[^'\\]|\\.)*)'\]|\.?([^.[\]]+)/g;
  for (const match of property.matchAll(pattern)) {
    keys.push(match[1] !== undefined ? match[1] : match[2]);
  }
  return keys;
}

/**
 * The form's errors as help, once per field: the field's title, what it
 * expects in words and the allowed values (`message`; `stack` also names
 * the field), the most telling error kept when one value breaks several
 * rules (a number where one of some words is expected).
 */
export function explainFormErrors(
  errors: RJSFValidationError[],
  schema: unknown,
): RJSFValidationError[] {
  const byField = new Map<string, RJSFValidationError>();
  for (const error of errors) {
    const key = error.property ?? '';
    const seen = byField.get(key);
    if (seen && !explainsBetter(error.name ?? '', seen.name ?? '')) continue;
    const message = explainSchemaError({
      keyword: error.name ?? '',
      params: error.params,
      message: error.message,
    });
    const title = fieldTitle(schema, propertyKeys(key));
    byField.set(key, { ...error, message, stack: `${title}: ${message}` });
  }
  return [...byField.values()];
}

/** A problem in the YAML editor, with the line it is on when known. */
export interface YamlProblem {
  /** 1-based. */
  line?: number;
  text: string;
}

/**
 * The line of the value at `keys` in a YAML text (its key's line for a map
 * entry); the nearest existing parent's when the value is missing (a
 * required key), undefined when the text does not parse.
 */
export function lineOf(text: string, keys: string[]): number | undefined {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) return undefined;
  let node: unknown = document.contents;
  let offset: number | undefined = (node as { range?: number[] } | null)
    ?.range?.[0];
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find(
        item => String((item.key as { value?: unknown })?.value) === key,
      );
      if (!pair) break;
      offset = (pair.key as { range?: number[] })?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(key)) {
      const item = node.items[Number(key)] as { range?: number[] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}

/** Where a YAML text stops parsing: its line and what is wrong, in one line. */
export function yamlSyntaxProblem(text: string): YamlProblem | undefined {
  const document = parseDocument(text, { maxAliasCount: 100 } as never);
  const [error] = document.errors;
  if (!error) return undefined;
  const line = error.linePos?.[0]?.line;
  return {
    ...(line !== undefined && { line }),
    text: error.message
      .split('\n')[0]
      .replace(/ at line \d+, column \d+:?$/, ''),
  };
}

import { V1LabelSelector } from '@kubernetes/client-node';

/** Whether a label set matches a selector; an empty or invalid selector matches nothing. */
export function matchesSelector(
  labels: Record<string, string> | undefined,
  selector: V1LabelSelector,
): boolean {
  if (selectorToString(selector) === undefined) {
    return false;
  }
  const actual = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (actual[key] !== value) {
      return false;
    }
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(actual, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(actual[expression.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(actual[expression.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * A selector in the label selector query syntax, or undefined when it is
 * empty (it would match every pod) or uses an operator we do not know.
 */
export function selectorToString(
  selector: V1LabelSelector | undefined,
): string | undefined {
  if (!selector) {
    return undefined;
  }
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    parts.push(`${key}=${value}`);
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ??
    []) {
    switch (operator) {
      case 'In':
        parts.push(`${key} in (${values.join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${key} notin (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(key);
        break;
      case 'DoesNotExist':
        parts.push(`!${key}`);
        break;
      default:
        return undefined;
    }
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

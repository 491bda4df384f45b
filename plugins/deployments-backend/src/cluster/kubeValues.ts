/** 'replica' or 'replicas'. */
export function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

/** A Kubernetes timestamp (a Date from the client, or a string) as ISO 8601. */
export function toIsoString(value: unknown): string | undefined {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  }
  if (typeof value === 'string' && value) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  }
  return undefined;
}

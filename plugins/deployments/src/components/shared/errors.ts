/**
 * The message to show for a failed call: the backend's own message (which
 * names the field or rule) rather than ResponseError's generic status line.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (
      error.name === 'ResponseError' &&
      cause instanceof Error &&
      cause.message
    ) {
      return cause.message;
    }
    return error.message;
  }
  return String(error);
}

/** The HTTP status of a failed call, when it came from the backend. */
export function errorStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The backend's error name (`InputError`, `KeyringSealedError`, ...). */
export function errorName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const cause = (error as { cause?: unknown }).cause;
  if (error.name === 'ResponseError' && cause instanceof Error) {
    return cause.name;
  }
  return error.name;
}

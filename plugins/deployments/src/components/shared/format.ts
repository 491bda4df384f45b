/** A timestamp in the user's locale, or an em dash when absent. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** `sha256:0123456789ab…` — enough to tell digests apart at a glance. */
export function shortDigest(digest: string, length = 12): string {
  const [algorithm, hex] = digest.includes(':')
    ? digest.split(':', 2)
    : ['', digest];
  const short = hex.length > length ? `${hex.slice(0, length)}…` : hex;
  return algorithm ? `${algorithm}:${short}` : short;
}

/** Bytes as B, KiB or MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Splits a comma, space or newline separated list into trimmed entries. */
export function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map(entry => entry.trim())
    .filter(Boolean);
}

const RELATIVE_UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 24 * 60 * 60 * 1000],
  ['hour', 60 * 60 * 1000],
  ['minute', 60 * 1000],
];

/**
 * A timestamp relative to `now` in the user's language ("in 3 hours",
 * "5 minutes ago"), or an em dash when absent.
 */
export function formatRelativeTime(
  iso: string | undefined,
  now: number = Date.now(),
): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = at - now;
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of RELATIVE_UNITS) {
    if (Math.abs(delta) >= size) {
      return format.format(Math.round(delta / size), unit);
    }
  }
  return delta >= 0 ? 'in less than a minute' : 'less than a minute ago';
}

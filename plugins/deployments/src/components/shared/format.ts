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

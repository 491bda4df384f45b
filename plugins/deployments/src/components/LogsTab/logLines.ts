/** One line of a log as shown: its number in the whole log survives filtering. */
export interface LogLine {
  /** 1-based position in the whole (merged) log. */
  n: number;
  text: string;
  /** 'pod/container' when several containers' logs are merged. */
  source?: string;
}

/** A line of a log read with timestamps, before merging. */
export interface TimedLine {
  /** Milliseconds since the epoch; NaN when the line carried no time. */
  time: number;
  /** Nanoseconds within the millisecond: kubelets stamp lines in nanoseconds. */
  nanos: number;
  source: string;
  text: string;
}

/** Splits a log text into lines; a trailing newline does not make an empty last line. */
export function splitLines(text: string): string[] {
  if (!text) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Numbers the lines of one container's log. */
export function numberLines(lines: string[], first = 1): LogLine[] {
  return lines.map((text, index) => ({ n: first + index, text }));
}

/**
 * Parses lines read with `timestamps=true` ("<RFC 3339 time> <text>"). A
 * line without a time keeps the time of the line before it.
 */
export function parseTimedLines(text: string, source: string): TimedLine[] {
  let last = { time: NaN, nanos: 0 };
  return splitLines(text).map(line => {
    const space = line.indexOf(' ');
    const stamp = space > 0 ? line.slice(0, space) : '';
    const time = stamp ? Date.parse(stamp) : NaN;
    if (Number.isNaN(time)) return { ...last, source, text: line };
    // Date.parse keeps milliseconds; the rest of the fraction orders lines within one.
    const fraction = /\.(\d+)/.exec(stamp)?.[1] ?? '';
    last = { time, nanos: Number(fraction.slice(3, 9).padEnd(6, '0')) };
    return { ...last, source, text: line.slice(space + 1) };
  });
}

/**
 * Interleaves several containers' lines by time; lines of the same
 * millisecond keep the order of their logs. Numbered in the merged order.
 */
export function mergeByTime(logs: TimedLine[][]): LogLine[] {
  const all = logs.flatMap((lines, log) =>
    lines.map((line, index) => ({ line, log, index })),
  );
  all.sort((a, b) => {
    const at = Number.isNaN(a.line.time) ? 0 : a.line.time;
    const bt = Number.isNaN(b.line.time) ? 0 : b.line.time;
    return (
      at - bt ||
      a.line.nanos - b.line.nanos ||
      a.log - b.log ||
      a.index - b.index
    );
  });
  return all.map(({ line }, index) => ({
    n: index + 1,
    text: line.text,
    source: line.source,
  }));
}

/** The lines that contain `filter` (case-insensitive), or those that do not when `inverse`. */
export function filterLines(
  lines: LogLine[],
  filter: string,
  inverse: boolean,
): LogLine[] {
  if (!filter) return lines;
  const needle = filter.toLocaleLowerCase();
  return lines.filter(
    line =>
      `${line.source ?? ''} ${line.text}`
        .toLocaleLowerCase()
        .includes(needle) !== inverse,
  );
}

/** A log as text, as downloaded: merged lines keep their source. */
export function toText(lines: LogLine[]): string {
  return lines
    .map(line => (line.source ? `${line.source} | ${line.text}` : line.text))
    .join('\n');
}

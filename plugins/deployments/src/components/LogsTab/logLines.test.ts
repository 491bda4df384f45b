import {
  filterLines,
  mergeByTime,
  numberLines,
  parseTimedLines,
  splitLines,
  toText,
} from './logLines';

describe('log lines', () => {
  it('interleaves several pods by time, each line with its source, numbered in merged order', () => {
    const a = parseTimedLines(
      '2026-12-02T04:00:00.100000000Z start\n2026-12-02T04:00:02Z ready\n',
      'web-a/web',
    );
    const b = parseTimedLines(
      '2026-12-02T04:00:01.5Z start\n2026-12-02T04:00:02Z ready\ncontinued line\n',
      'web-b/web',
    );
    const merged = mergeByTime([a, b]);
    expect(toText(merged)).toBe(
      [
        'web-a/web | start',
        'web-b/web | start',
        'web-a/web | ready',
        'web-b/web | ready',
        'web-b/web | continued line',
      ].join('\n'),
    );
    expect(merged.map(line => line.n)).toEqual([1, 2, 3, 4, 5]);
  });

  it('orders lines within one millisecond by their nanoseconds', () => {
    const merged = mergeByTime([
      parseTimedLines(
        '2026-12-02T04:00:00.000000002Z a2\n2026-12-02T04:00:00.000000004Z a4\n',
        'a/web',
      ),
      parseTimedLines(
        '2026-12-02T04:00:00.000000001Z b1\n2026-12-02T04:00:00.000000003Z b3\n',
        'b/web',
      ),
    ]);
    expect(merged.map(line => line.text)).toEqual(['b1', 'a2', 'b3', 'a4']);
  });

  it('keeps each line’s number in the whole log when filtered, searching the source too', () => {
    const lines = numberLines(splitLines('GET /\nerror: boom\nGET /health\n'));
    expect(filterLines(lines, 'get', false)).toEqual([
      { n: 1, text: 'GET /' },
      { n: 3, text: 'GET /health' },
    ]);
    expect(filterLines(lines, 'GET', true)).toEqual([
      { n: 2, text: 'error: boom' },
    ]);
    const merged = mergeByTime([
      parseTimedLines('2026-12-02T04:00:00Z x\n', 'a/web'),
      parseTimedLines('2026-12-02T04:00:01Z y\n', 'b/web'),
    ]);
    expect(filterLines(merged, 'b/web', false)).toEqual([
      { n: 2, text: 'y', source: 'b/web' },
    ]);
  });
});

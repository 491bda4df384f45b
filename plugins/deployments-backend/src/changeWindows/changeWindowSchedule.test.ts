import { ChangeWindowSettings } from '@kubedeploy/plugin-deployments-common';
import {
  changeWindowStatus,
  describeInvalidChangeWindows,
  formatInTimeZone,
  OUTSIDE_WINDOWS_REASON,
} from './changeWindowSchedule';

const berlin = (
  windows: ChangeWindowSettings['windows'],
  freezes: ChangeWindowSettings['freezes'] = [],
): ChangeWindowSettings => ({ timeZone: 'Europe/Berlin', windows, freezes });

/** Weekdays 09:00–17:00 Berlin time. */
const officeHours = berlin([{ cron: '0 9 * * 1-5', durationMinutes: 480 }]);

const at = (iso: string) => new Date(iso);

describe('changeWindowStatus', () => {
  it('is open without settings, and without windows or freezes', () => {
    expect(changeWindowStatus(undefined, at('2027-01-01T00:00:00Z'))).toEqual({
      open: true,
    });
    expect(changeWindowStatus(berlin([]), at('2027-01-01T00:00:00Z'))).toEqual({
      open: true,
    });
  });

  it('is open inside a window until it ends', () => {
    // Tuesday 10:00 CET.
    expect(changeWindowStatus(officeHours, at('2027-01-12T09:00:00Z'))).toEqual(
      { open: true, closesAt: '2027-01-12T16:00:00.000Z' },
    );
    // The first and the last minute of the window.
    expect(
      changeWindowStatus(officeHours, at('2027-01-12T08:00:00Z')).open,
    ).toBe(true);
    expect(
      changeWindowStatus(officeHours, at('2027-01-12T15:59:59.999Z')).open,
    ).toBe(true);
  });

  it('is closed outside every window and says when the next one opens', () => {
    // Tuesday 17:00 CET: the window just ended (end exclusive).
    expect(changeWindowStatus(officeHours, at('2027-01-12T16:00:00Z'))).toEqual(
      {
        open: false,
        reason: OUTSIDE_WINDOWS_REASON,
        nextOpenAt: '2027-01-13T08:00:00.000Z',
      },
    );
    // Friday evening: the next window is Monday morning.
    expect(
      changeWindowStatus(officeHours, at('2027-01-15T19:00:00Z')).nextOpenAt,
    ).toBe('2027-01-18T08:00:00.000Z');
  });

  it('keeps 09:00 local across the March switch to summer time', () => {
    // Friday 26 March 2027 18:00 CET (+01:00); clocks go forward on Sunday 28th.
    expect(changeWindowStatus(officeHours, at('2027-03-26T17:00:00Z'))).toEqual(
      {
        open: false,
        reason: OUTSIDE_WINDOWS_REASON,
        // Monday 29 March 09:00 CEST (+02:00).
        nextOpenAt: '2027-03-29T07:00:00.000Z',
      },
    );
    // Monday 10:00 CEST: open until 17:00 CEST.
    expect(changeWindowStatus(officeHours, at('2027-03-29T08:00:00Z'))).toEqual(
      { open: true, closesAt: '2027-03-29T15:00:00.000Z' },
    );
    // 08:30 CEST is 07:30 CET: closed in summer even though it would be
    // inside a window on UTC+1.
    expect(
      changeWindowStatus(officeHours, at('2027-03-29T06:30:00Z')).open,
    ).toBe(false);
  });

  it('keeps 09:00 local across the October switch to winter time', () => {
    // Friday 29 October 2027 18:00 CEST; clocks go back on Sunday 31st.
    expect(
      changeWindowStatus(officeHours, at('2027-10-29T16:00:00Z')).nextOpenAt,
    ).toBe('2027-11-01T08:00:00.000Z');
    expect(changeWindowStatus(officeHours, at('2027-11-01T12:00:00Z'))).toEqual(
      { open: true, closesAt: '2027-11-01T16:00:00.000Z' },
    );
  });

  it('counts a duration in elapsed minutes when the window spans a switch', () => {
    // Sunday 28 March 2027 00:00 CET, six hours: 02:00 CET does not exist, so
    // the window ends at 07:00 CEST, six real hours later.
    const night = berlin([{ cron: '0 0 * * 0', durationMinutes: 360 }]);
    expect(changeWindowStatus(night, at('2027-03-28T01:00:00Z'))).toEqual({
      open: true,
      closesAt: '2027-03-28T05:00:00.000Z',
    });
    // Sunday 31 October 2027 00:00 CEST, six hours: ends 05:00 CET.
    expect(changeWindowStatus(night, at('2027-10-31T03:00:00Z'))).toEqual({
      open: true,
      closesAt: '2027-10-31T04:00:00.000Z',
    });
  });

  it('opens a window at a skipped local time when the clocks jump, and once in a repeated hour', () => {
    const nightly = berlin([{ cron: '30 2 * * *', durationMinutes: 60 }]);
    // 28 March 2027 01:45 CET: 02:30 does not exist, the window opens at 03:00 CEST.
    expect(
      changeWindowStatus(nightly, at('2027-03-28T00:45:00Z')).nextOpenAt,
    ).toBe('2027-03-28T01:00:00.000Z');
    // 31 October 2027: 02:30 happens twice; the window opens at the first.
    expect(
      changeWindowStatus(nightly, at('2027-10-31T00:00:00Z')).nextOpenAt,
    ).toBe('2027-10-31T00:30:00.000Z');
    expect(
      changeWindowStatus(nightly, at('2027-10-31T01:45:00Z')).nextOpenAt,
    ).toBe('2027-11-01T01:30:00.000Z');
  });

  it('treats overlapping and adjoining windows as one', () => {
    const settings = berlin([
      { cron: '0 9 * * *', durationMinutes: 180 },
      { cron: '0 12 * * *', durationMinutes: 120 },
      { cron: '30 13 * * *', durationMinutes: 60 },
    ]);
    // 10:00 CET: 09–12, then 12–14, then 13:30–14:30.
    expect(changeWindowStatus(settings, at('2027-01-12T09:00:00Z'))).toEqual({
      open: true,
      closesAt: '2027-01-12T13:30:00.000Z',
    });
  });

  it('follows a window that opens every half hour to its last opening', () => {
    const settings = berlin([
      { cron: '*/30 9-16 * * 1-5', durationMinutes: 30 },
    ]);
    expect(changeWindowStatus(settings, at('2027-01-12T09:10:00Z'))).toEqual({
      open: true,
      closesAt: '2027-01-12T16:00:00.000Z',
    });
  });

  it('finds the window covering now when its duration spans many openings', () => {
    // Opens every minute, each opening lasts a day: always open.
    const settings = berlin([{ cron: '* * * * *', durationMinutes: 1440 }]);
    expect(changeWindowStatus(settings, at('2027-01-12T09:00:00Z'))).toEqual({
      open: true,
    });
  });

  it('does not claim a closing time when windows chain into always open', () => {
    const settings = berlin([{ cron: '0 0 * * *', durationMinutes: 1440 }]);
    expect(changeWindowStatus(settings, at('2027-03-28T12:00:00Z'))).toEqual({
      open: true,
    });
    // A freeze still closes it.
    const frozen = berlin(
      [{ cron: '0 0 * * *', durationMinutes: 1440 }],
      [
        {
          start: '2027-04-01T00:00:00Z',
          end: '2027-04-02T00:00:00Z',
          reason: 'quarter end',
        },
      ],
    );
    expect(changeWindowStatus(frozen, at('2027-03-28T12:00:00Z'))).toEqual({
      open: true,
      closesAt: '2027-04-01T00:00:00.000Z',
    });
  });

  it('closes during a freeze with its reason and reopens after it', () => {
    const settings = berlin(
      [],
      [
        {
          start: '2027-12-20T00:00:00+01:00',
          end: '2028-01-03T00:00:00+01:00',
          reason: 'year-end freeze',
        },
      ],
    );
    expect(changeWindowStatus(settings, at('2027-12-24T12:00:00Z'))).toEqual({
      open: false,
      reason: 'year-end freeze',
      nextOpenAt: '2028-01-02T23:00:00.000Z',
    });
    // Before it: open until it starts.
    expect(changeWindowStatus(settings, at('2027-12-01T12:00:00Z'))).toEqual({
      open: true,
      closesAt: '2027-12-19T23:00:00.000Z',
    });
    // The end is exclusive.
    expect(changeWindowStatus(settings, at('2028-01-02T23:00:00Z'))).toEqual({
      open: true,
    });
  });

  it('closes a window early when a freeze starts inside it', () => {
    const settings = berlin(
      [{ cron: '0 9 * * 1-5', durationMinutes: 480 }],
      [
        {
          start: '2027-01-12T12:00:00+01:00',
          end: '2027-01-12T14:00:00+01:00',
          reason: 'database migration',
        },
      ],
    );
    expect(changeWindowStatus(settings, at('2027-01-12T09:00:00Z'))).toEqual({
      open: true,
      closesAt: '2027-01-12T11:00:00.000Z',
    });
    // During the freeze the window is still on: it reopens when the freeze ends.
    expect(changeWindowStatus(settings, at('2027-01-12T12:00:00Z'))).toEqual({
      open: false,
      reason: 'database migration',
      nextOpenAt: '2027-01-12T13:00:00.000Z',
    });
  });

  it('skips windows that fall in a freeze when looking for the next opening', () => {
    const settings = berlin(
      [{ cron: '0 9 * * 1-5', durationMinutes: 480 }],
      [
        // Monday to Wednesday, back to back.
        {
          start: '2027-01-18T00:00:00+01:00',
          end: '2027-01-19T00:00:00+01:00',
          reason: 'release train',
        },
        {
          start: '2027-01-19T00:00:00+01:00',
          end: '2027-01-20T10:00:00+01:00',
          reason: 'audit',
        },
      ],
    );
    // Friday evening: Monday and Tuesday are frozen, Wednesday thaws at 10:00
    // inside its window.
    expect(changeWindowStatus(settings, at('2027-01-15T19:00:00Z'))).toEqual({
      open: false,
      reason: OUTSIDE_WINDOWS_REASON,
      nextOpenAt: '2027-01-20T09:00:00.000Z',
    });
  });

  it('has no next opening when nothing opens within a year', () => {
    const settings = berlin(
      [{ cron: '0 9 * * 1-5', durationMinutes: 480 }],
      [
        {
          start: '2027-01-01T00:00:00Z',
          end: '2029-01-01T00:00:00Z',
          reason: 'decommissioned',
        },
      ],
    );
    expect(changeWindowStatus(settings, at('2027-06-01T09:00:00Z'))).toEqual({
      open: false,
      reason: 'decommissioned',
    });
  });

  it('closes on settings that are not valid', () => {
    const status = changeWindowStatus(
      { timeZone: 'Mars/Olympus', windows: [], freezes: [] },
      at('2027-01-12T09:00:00Z'),
    );
    expect(status.open).toBe(false);
    expect(status.reason).toMatch(/settings are invalid.*Mars\/Olympus/);
  });
});

describe('describeInvalidChangeWindows', () => {
  it('accepts valid settings', () => {
    expect(
      describeInvalidChangeWindows({
        timeZone: 'Europe/Berlin',
        windows: [
          { cron: '0 9 * * 1-5', durationMinutes: 480 },
          { cron: '30 22 * * mon-fri', durationMinutes: 10080 },
          { cron: ' */15  6-8 1,15 * * ', durationMinutes: 1 },
        ],
        freezes: [
          {
            start: '2027-12-20T00:00:00+01:00',
            end: '2028-01-03T00:00Z',
            reason: 'year-end',
          },
          {
            start: '2027-06-01T00:00:00.000Z',
            end: '2027-06-01T00:00:00.001Z',
            reason: 'a moment',
          },
        ],
      }),
    ).toEqual([]);
    expect(
      describeInvalidChangeWindows({
        timeZone: 'UTC',
        windows: [],
        freezes: [],
      }),
    ).toEqual([]);
  });

  it('names an unknown time zone and the expected form', () => {
    expect(
      describeInvalidChangeWindows({
        timeZone: 'Berlin',
        windows: [],
        freezes: [],
      }),
    ).toEqual([
      'timeZone: "Berlin" is not an IANA time zone; expected e.g. "Europe/Berlin" or "UTC"',
    ]);
  });

  it('names each cron expression that is not 5 fields or does not parse', () => {
    const problems = describeInvalidChangeWindows(
      berlin([
        { cron: '0 9 * * 1-5', durationMinutes: 60 },
        { cron: '0 9 * *', durationMinutes: 60 },
        { cron: '0 0 9 * * 1-5', durationMinutes: 60 },
        { cron: '61 9 * * *', durationMinutes: 60 },
        { cron: '0 9 * * weekdays', durationMinutes: 60 },
        { cron: '0 0 31 4 *', durationMinutes: 60 },
        { cron: '@daily', durationMinutes: 60 },
      ]),
    );
    expect(problems).toHaveLength(6);
    expect(problems[0]).toBe(
      'windows[1].cron: "0 9 * *" has 4 field(s); expected 5 fields "minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5"',
    );
    expect(problems[1]).toMatch(
      /^windows\[2\]\.cron: .* has 6 field\(s\); expected 5 fields/,
    );
    expect(problems[2]).toMatch(
      /^windows\[3\]\.cron: "61 9 \* \* \*" does not parse \(.*out of range.*\); expected 5 fields/,
    );
    expect(problems[3]).toMatch(/^windows\[4\]\.cron: .* does not parse/);
    expect(problems[4]).toMatch(
      /^windows\[5\]\.cron: "0 0 31 4 \*" never fires/,
    );
    expect(problems[5]).toMatch(/^windows\[6\]\.cron: "@daily" has 1 field/);
  });

  it('names durations outside 1 to 10080 minutes', () => {
    expect(
      describeInvalidChangeWindows(
        berlin([
          { cron: '0 9 * * *', durationMinutes: 0 },
          { cron: '0 9 * * *', durationMinutes: 10081 },
          { cron: '0 9 * * *', durationMinutes: 1.5 },
        ]),
      ),
    ).toEqual([
      'windows[0].durationMinutes: 0 is not a whole number of minutes from 1 to 10080 (7 days)',
      'windows[1].durationMinutes: 10081 is not a whole number of minutes from 1 to 10080 (7 days)',
      'windows[2].durationMinutes: 1.5 is not a whole number of minutes from 1 to 10080 (7 days)',
    ]);
  });

  it('names freezes without offsets, out of order or without a reason', () => {
    const problems = describeInvalidChangeWindows(
      berlin(
        [],
        [
          {
            start: '2027-12-20T00:00:00Z',
            end: '2028-01-03T00:00:00Z',
            reason: 'fine',
          },
          {
            start: '2027-12-20T00:00:00',
            end: 'next monday',
            reason: 'local time',
          },
          {
            start: '2027-12-20T00:00:00+01:00',
            end: '2027-12-19T23:00:00Z',
            reason: 'backwards',
          },
          {
            start: '2027-13-01T00:00:00Z',
            end: '2028-01-01T00:00:00Z',
            reason: '  ',
          },
        ],
      ),
    );
    expect(problems).toEqual([
      'freezes[1].start: "2027-12-20T00:00:00" is not an ISO 8601 instant with an offset; expected e.g. "2026-12-20T00:00:00Z" or "2026-12-20T00:00:00+01:00"',
      'freezes[1].end: "next monday" is not an ISO 8601 instant with an offset; expected e.g. "2026-12-20T00:00:00Z" or "2026-12-20T00:00:00+01:00"',
      'freezes[2].end: 2027-12-19T23:00:00Z is not after its start 2027-12-20T00:00:00+01:00',
      'freezes[3].start: "2027-13-01T00:00:00Z" is not an ISO 8601 instant with an offset; expected e.g. "2026-12-20T00:00:00Z" or "2026-12-20T00:00:00+01:00"',
      'freezes[3].reason: empty; say why changes stop, e.g. "year-end freeze"',
    ]);
  });
});

describe('formatInTimeZone', () => {
  it('shows an instant in the target time zone with its offset', () => {
    expect(formatInTimeZone('2027-03-29T07:00:00.000Z', 'Europe/Berlin')).toBe(
      '2027-03-29T09:00+02:00',
    );
    expect(formatInTimeZone('2027-01-18T08:00:00.000Z', 'Europe/Berlin')).toBe(
      '2027-01-18T09:00+01:00',
    );
  });
});

import {
  ChangeWindowSettings,
  ChangeWindowStatus,
} from '@kubedeploy/plugin-deployments-common';
import { CronTime } from 'cron';
import { DateTime, IANAZone } from 'luxon';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MAX_DURATION_MINUTES = 7 * 24 * 60;

/** How far ahead the next opening is looked for. */
const SEARCH_HORIZON_MS = 366 * DAY_MS;
/**
 * Steps per search, so that odd settings (a window every minute, hundreds of
 * freezes) cost bounded time; cron's next-date search is not cheap.
 */
const MAX_SEARCH_STEPS = 1000;
/**
 * How far the end of an open run of chained windows is followed: past the
 * longest single window, a run that still goes on is taken as not closing.
 */
const RUN_HORIZON_MS = (MAX_DURATION_MINUTES + 24 * 60) * MINUTE_MS;
const MAX_RUN_STEPS = 100;

/** An ISO 8601 instant that says its offset: a date, a time and `Z` or `±hh:mm`. */
const ISO_INSTANT =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

interface Window {
  cron: CronTime;
  durationMs: number;
}

interface Freeze {
  start: number;
  end: number;
  reason: string;
}

/**
 * Valid settings in a form to compute with. A window opens at each fire of
 * its cron expression (read in the time zone, so 09:00 stays 09:00 local
 * across daylight-saving switches) and stays open for its duration: the
 * interval [fire, fire + duration). Freezes are [start, end).
 */
class Schedule {
  private constructor(
    private readonly timeZone: string,
    private readonly windows: Window[],
    private readonly freezes: Freeze[],
  ) {}

  static of(settings: ChangeWindowSettings): Schedule {
    return new Schedule(
      settings.timeZone,
      settings.windows.map(w => ({
        cron: new CronTime(w.cron.trim(), settings.timeZone),
        durationMs: w.durationMinutes * MINUTE_MS,
      })),
      settings.freezes.map(f => ({
        start: parseInstant(f.start)!,
        end: parseInstant(f.end)!,
        reason: f.reason,
      })),
    );
  }

  /** The freeze `t` falls in (the one lasting longest, if several). */
  freezeAt(t: number): Freeze | undefined {
    return this.freezes
      .filter(f => f.start <= t && t < f.end)
      .sort((a, b) => b.end - a.end)[0];
  }

  nextFreezeStart(t: number): number | undefined {
    const starts = this.freezes.map(f => f.start).filter(s => s > t);
    return starts.length ? Math.min(...starts) : undefined;
  }

  /** Inside some window; no windows means always. */
  inWindow(t: number): boolean {
    if (!this.windows.length) return true;
    return this.windows.some(w => {
      const fire = this.next(w, t - w.durationMs);
      return fire !== undefined && fire <= t;
    });
  }

  /**
   * The first instant not before `from` that is inside a window and outside
   * every freeze, within the search horizon.
   */
  nextOpen(from: number): number | undefined {
    const limit = from + SEARCH_HORIZON_MS;
    let t = from;
    for (let step = 0; step < MAX_SEARCH_STEPS && t <= limit; step++) {
      const freeze = this.freezeAt(t);
      if (freeze) {
        t = freeze.end;
        continue;
      }
      if (!this.inWindow(t)) {
        // Outside every window, the next one to open is the next fire.
        const after = t;
        const fires = this.windows
          .map(w => this.next(w, after))
          .filter((f): f is number => f !== undefined);
        if (!fires.length) return undefined;
        t = Math.min(...fires);
        continue;
      }
      return t;
    }
    return undefined;
  }

  /**
   * When the windows covering `t` stop covering it, overlapping and
   * adjoining windows taken as one; undefined without windows or when they
   * do not end within a few steps or the longest window's duration (e.g.
   * windows that chain into always open).
   */
  windowRunEnd(t: number): number | undefined {
    if (!this.windows.length) return undefined;
    const limit = t + RUN_HORIZON_MS;
    let end = t;
    for (let step = 0; step < MAX_RUN_STEPS && end <= limit; step++) {
      let reach = end;
      for (const w of this.windows) {
        const fire = this.latestFire(w, end - w.durationMs, end);
        if (fire !== undefined) reach = Math.max(reach, fire + w.durationMs);
      }
      if (reach === end) return end;
      end = reach;
    }
    return undefined;
  }

  private next(w: Window, after: number): number | undefined {
    return nextFire(w.cron, this.timeZone, after);
  }

  /**
   * The last fire in (after, until]. cron only searches forward, so a dense
   * expression (one fire a minute over a week-long duration) is not stepped
   * through: look back from `until` by doubling steps, then halve.
   */
  private latestFire(w: Window, after: number, until: number) {
    let latest = this.next(w, after);
    if (latest === undefined || latest > until) return undefined;
    // Invariant: `latest` is a fire and no fire lies in (hi, until].
    let hi = until;
    for (let back = MINUTE_MS; ; back *= 2) {
      const following = this.next(w, latest);
      if (following === undefined || following > hi) return latest;
      latest = following;
      // Fires fall on whole minutes: probe from a whole minute.
      const probe = Math.floor((hi - back) / MINUTE_MS) * MINUTE_MS;
      if (probe <= latest) break;
      const fromProbe = this.next(w, probe - 1);
      if (fromProbe !== undefined && fromProbe <= hi) {
        latest = fromProbe;
        break;
      }
      hi = probe - 1;
    }
    for (;;) {
      const following = this.next(w, latest);
      if (following === undefined || following > hi) return latest;
      latest = following;
      const mid =
        Math.floor((latest + (hi - latest) / 2) / MINUTE_MS) * MINUTE_MS;
      if (mid <= latest) continue;
      const fromMid = this.next(w, mid - 1);
      if (fromMid !== undefined && fromMid <= hi) latest = fromMid;
      else hi = mid - 1;
    }
  }
}

/** Why a target is closed outside its windows (the freeze reason otherwise). */
export const OUTSIDE_WINDOWS_REASON = 'outside every change window';

/**
 * Everything wrong with change-window settings, for a 400 at write time
 * (an unknown time zone, a cron expression that is not 5 fields, a freeze
 * whose end is not after its start). Empty when they are valid.
 */
export function describeInvalidChangeWindows(
  settings: ChangeWindowSettings,
): string[] {
  const problems: string[] = [];
  const zoneValid = IANAZone.isValidZone(settings.timeZone);
  if (!zoneValid) {
    problems.push(
      `timeZone: "${settings.timeZone}" is not an IANA time zone; expected e.g. "Europe/Berlin" or "UTC"`,
    );
  }
  for (const [index, window] of settings.windows.entries()) {
    const name = `windows[${index}]`;
    const cronProblem = describeInvalidCron(
      window.cron,
      zoneValid ? settings.timeZone : 'UTC',
    );
    if (cronProblem) problems.push(`${name}.cron: ${cronProblem}`);
    const minutes = window.durationMinutes;
    if (
      !Number.isInteger(minutes) ||
      minutes < 1 ||
      minutes > MAX_DURATION_MINUTES
    ) {
      problems.push(
        `${name}.durationMinutes: ${minutes} is not a whole number of minutes from 1 to ${MAX_DURATION_MINUTES} (7 days)`,
      );
    }
  }
  for (const [index, freeze] of settings.freezes.entries()) {
    const name = `freezes[${index}]`;
    const start = parseInstant(freeze.start);
    const end = parseInstant(freeze.end);
    if (start === undefined) {
      problems.push(`${name}.start: ${describeBadInstant(freeze.start)}`);
    }
    if (end === undefined) {
      problems.push(`${name}.end: ${describeBadInstant(freeze.end)}`);
    }
    if (start !== undefined && end !== undefined && end <= start) {
      problems.push(
        `${name}.end: ${freeze.end} is not after its start ${freeze.start}`,
      );
    }
    if (!freeze.reason?.trim()) {
      problems.push(
        `${name}.reason: empty; say why changes stop, e.g. "year-end freeze"`,
      );
    }
  }
  return problems;
}

/**
 * Whether changes are allowed at `now` under these settings: inside a window
 * (or there are no windows) and outside every freeze. Settings that are not
 * valid (stored before they were checked) close the target: a control that
 * cannot be evaluated must not let changes through.
 */
export function changeWindowStatus(
  settings: ChangeWindowSettings | undefined,
  now: Date,
): ChangeWindowStatus {
  if (!settings) return { open: true };
  const problems = describeInvalidChangeWindows(settings);
  if (problems.length) {
    return {
      open: false,
      reason: `the change-window settings are invalid (${problems.join('; ')})`,
    };
  }
  const schedule = Schedule.of(settings);
  const at = now.getTime();

  const freeze = schedule.freezeAt(at);
  if (freeze || !schedule.inWindow(at)) {
    const nextOpen = schedule.nextOpen(at);
    return {
      open: false,
      reason: freeze ? freeze.reason : OUTSIDE_WINDOWS_REASON,
      ...(nextOpen !== undefined
        ? { nextOpenAt: new Date(nextOpen).toISOString() }
        : {}),
    };
  }
  const closes = [
    schedule.windowRunEnd(at),
    schedule.nextFreezeStart(at),
  ].filter((t): t is number => t !== undefined);
  return {
    open: true,
    ...(closes.length
      ? { closesAt: new Date(Math.min(...closes)).toISOString() }
      : {}),
  };
}

/** An instant as the target's people read it, e.g. `2027-03-29T09:00+02:00`. */
export function formatInTimeZone(iso: string, timeZone: string): string {
  const local = DateTime.fromISO(iso, { zone: timeZone });
  return local.isValid
    ? local.toISO({ suppressMilliseconds: true, suppressSeconds: true }) ?? iso
    : iso;
}

function describeInvalidCron(
  expression: string,
  timeZone: string,
): string | undefined {
  const expected =
    'expected 5 fields "minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5"';
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    return `"${expression}" has ${fields.length} field(s); ${expected}`;
  }
  let cron: CronTime;
  try {
    cron = new CronTime(fields.join(' '), timeZone);
  } catch (error) {
    return `"${expression}" does not parse (${
      (error as Error).message
    }); ${expected}`;
  }
  // A date that does not exist (31 April) parses but never fires.
  if (nextFire(cron, timeZone, Date.now()) === undefined) {
    return `"${expression}" never fires; ${expected}`;
  }
  return undefined;
}

function parseInstant(value: string): number | undefined {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) return undefined;
  const parsed = DateTime.fromISO(value, { setZone: true });
  return parsed.isValid ? parsed.toMillis() : undefined;
}

function describeBadInstant(value: string): string {
  return `"${value}" is not an ISO 8601 instant with an offset; expected e.g. "2026-12-20T00:00:00Z" or "2026-12-20T00:00:00+01:00"`;
}

/** The first fire strictly after `after`, or undefined if there is none. */
function nextFire(
  cron: CronTime,
  timeZone: string,
  after: number,
): number | undefined {
  try {
    return cron.getNextDateFrom(new Date(after), timeZone).toMillis();
  } catch {
    // cron gives up when nothing matches within 8 years (e.g. 30 February).
    return undefined;
  }
}

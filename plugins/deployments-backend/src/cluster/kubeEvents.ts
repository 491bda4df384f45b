import { CoreV1Event } from '@kubernetes/client-node';
import { ResourceEvent } from './releaseResourceTypes';

const MAX_EVENTS_PER_OBJECT = 10;

/** A namespace's events by the 'Kind/name' of the object they are about. */
export type EventIndex = Map<string, CoreV1Event[]>;

export function indexEvents(events: CoreV1Event[]): EventIndex {
  const index: EventIndex = new Map();
  for (const event of events) {
    const involved = event.involvedObject;
    if (!involved?.kind || !involved.name) {
      continue;
    }
    const key = `${involved.kind}/${involved.name}`;
    const list = index.get(key);
    if (list) {
      list.push(event);
    } else {
      index.set(key, [event]);
    }
  }
  return index;
}

/** When an event was last seen, in ms since the epoch; 0 when it carries no time. */
export function eventTime(event: CoreV1Event): number {
  const time =
    event.lastTimestamp ??
    event.series?.lastObservedTime ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata?.creationTimestamp;
  const millis = time === undefined ? NaN : new Date(time).getTime();
  return Number.isNaN(millis) ? 0 : millis;
}

/** The newest events of one object, at most ten. */
export function eventsFor(
  index: EventIndex,
  kind: string,
  name: string | undefined,
  uid: string | undefined,
): ResourceEvent[] {
  if (name === undefined) {
    return [];
  }
  // Events of an earlier object with the same name carry another uid.
  const matching = (index.get(`${kind}/${name}`) ?? []).filter(
    event =>
      uid === undefined ||
      !event.involvedObject.uid ||
      event.involvedObject.uid === uid,
  );
  return matching
    .map(event => ({ event, time: eventTime(event) }))
    .sort((a, b) => b.time - a.time)
    .slice(0, MAX_EVENTS_PER_OBJECT)
    .map(({ event, time }) => ({
      type: event.type ?? 'Normal',
      reason: event.reason ?? '',
      message: event.message ?? '',
      count: event.count ?? event.series?.count ?? 1,
      ...(time > 0 && { lastSeen: new Date(time).toISOString() }),
    }));
}

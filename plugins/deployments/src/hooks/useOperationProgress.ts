import { useApi } from '@backstage/core-plugin-api';
import {
  Operation,
  OperationLine,
} from '@kubedeploy/plugin-deployments-common';
import { useSignal } from '@backstage/plugin-signals-react';
import { useEffect, useRef, useState } from 'react';
import { deploymentsApiRef } from '../api/DeploymentsApi';

/** The message the backend publishes on every change of an operation. */
export interface OperationSignal {
  id: string;
  planId: string;
  status: Operation['status'];
  lineCount: number;
  [key: string]: string | number;
}

/** The channel of {@link OperationSignal}s. */
export const OPERATIONS_CHANNEL = 'deployments:operations';

/** Polling while an operation runs and no signal arrives; faster without signals. */
const POLL_WITH_SIGNALS_MS = 4000;
const POLL_WITHOUT_SIGNALS_MS = 1500;
const LINE_PAGE = 500;
/** Lines kept in memory; older ones fall off the top of the view. */
const MAX_LINES = 5000;

/** What {@link useOperationProgress} reports. */
export interface OperationProgress {
  operation?: Operation;
  lines: OperationLine[];
  error?: Error;
  /** Lines dropped from the top because the log grew past what is kept. */
  droppedLines: number;
}

/**
 * Follows one operation live: its record and its progress lines, read
 * incrementally (`GET /operations/{id}/lines?after=<seq>`). A signal on
 * `deployments:operations` wakes it at once; polling covers apps without
 * signals (and missed messages) until the operation finishes.
 */
export function useOperationProgress(
  operationId: string | undefined,
): OperationProgress {
  const api = useApi(deploymentsApiRef);
  const { lastSignal, isSignalsAvailable } =
    useSignal<OperationSignal>(OPERATIONS_CHANNEL);
  const [progress, setProgress] = useState<OperationProgress>({
    lines: [],
    droppedLines: 0,
  });
  const wake = useRef<() => void>(() => {});

  useEffect(() => {
    setProgress({ lines: [], droppedLines: 0 });
    if (!operationId) return undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let again = false;
    let lastSeq = 0;
    const interval = isSignalsAvailable
      ? POLL_WITH_SIGNALS_MS
      : POLL_WITHOUT_SIGNALS_MS;

    const tick = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      clearTimeout(timer);
      try {
        // The record first: lines read after it include every line it counts.
        const operation = await api.getOperation(operationId);
        const fresh: OperationLine[] = [];
        for (;;) {
          const page = await api.listOperationLines(operationId, {
            after: lastSeq,
            limit: LINE_PAGE,
          });
          fresh.push(...page.items);
          if (page.items.length > 0) {
            lastSeq = page.items[page.items.length - 1].seq;
          }
          if (page.items.length < LINE_PAGE || stopped) break;
        }
        if (stopped) return;
        setProgress(previous => {
          const all = [...previous.lines, ...fresh];
          const drop = Math.max(0, all.length - MAX_LINES);
          return {
            operation,
            lines: drop ? all.slice(drop) : all,
            droppedLines: previous.droppedLines + drop,
          };
        });
        if (operation.status === 'running' || again) {
          timer = setTimeout(tick, again ? 0 : interval);
        }
      } catch (error) {
        if (stopped) return;
        setProgress(previous => ({ ...previous, error: error as Error }));
        timer = setTimeout(tick, interval * 2);
      } finally {
        inFlight = false;
        again = false;
      }
    };
    wake.current = () => {
      tick();
    };
    tick();
    return () => {
      stopped = true;
      wake.current = () => {};
      clearTimeout(timer);
    };
  }, [api, operationId, isSignalsAvailable]);

  useEffect(() => {
    if (lastSignal && lastSignal.id === operationId) wake.current();
  }, [lastSignal, operationId]);

  return progress;
}

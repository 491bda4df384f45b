import { Operation } from '@kubedeploy/plugin-deployments-common';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import { PlanFilterTree } from '../plans/DatabasePlanStore';
import { DatabaseOperationStore } from './DatabaseOperationStore';
import { toApiOperation } from './OperationRunner';

const DEFAULT_LIMIT = 50;

/**
 * A page of operations across plans, newest first, for the operations page.
 * Items leave out `result` (a dry-run's carries every rendered object):
 * `GET /operations/{id}` has it.
 */
export async function listOperations(
  store: DatabaseOperationStore,
  options: {
    status?: Operation['status'];
    kind?: Operation['kind'];
    target?: string;
    limit?: number;
    after?: string;
    planFilter?: PlanFilterTree;
  },
): Promise<{ items: Operation[]; nextCursor?: string }> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const after = options.after ? decodeCursor(options.after, 2) : undefined;
  const rows = await store.list({
    limit: limit + 1,
    after: after && { createdAt: after[0], id: after[1] },
    status: options.status,
    kind: options.kind,
    targetName: options.target,
    planFilter: options.planFilter,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(row => ({
      ...toApiOperation(row),
      result: undefined,
      entityRef: row.entityRef,
    })),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor([last.createdAt, last.id])
        : undefined,
  };
}

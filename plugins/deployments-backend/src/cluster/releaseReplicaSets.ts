import {
  AppsV1Api,
  KubernetesObject,
  V1Deployment,
} from '@kubernetes/client-node';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';
import { EventIndex, eventsFor } from './kubeEvents';
import { selectorToString } from './labelSelectors';
import { READ_CONCURRENCY } from './releaseObjects';
import { ReleaseReplicaSet } from './releaseResourceTypes';
import { workloadHealth } from './workloadHealth';

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/**
 * The ReplicaSets the given live Deployments own (by owner reference uid,
 * not by name): the newest one of each, and older ones that still have
 * pods. Scaled-down history is left out.
 */
export async function listOwnedReplicaSets(
  apps: AppsV1Api,
  namespace: string,
  deployments: ReadonlyArray<KubernetesObject>,
  events: EventIndex,
): Promise<ReleaseReplicaSet[]> {
  const lists = await mapWithConcurrency(
    deployments as V1Deployment[],
    READ_CONCURRENCY,
    async deployment => {
      const labelSelector = selectorToString(deployment.spec?.selector);
      const uid = deployment.metadata?.uid;
      if (!labelSelector || !uid) return [];
      const list = await apps.listNamespacedReplicaSet({
        namespace,
        labelSelector,
      });
      const owned = list.items
        .filter(rs =>
          rs.metadata?.ownerReferences?.some(owner => owner.uid === uid),
        )
        .map(rs => ({
          rs,
          revision: Number(rs.metadata?.annotations?.[REVISION_ANNOTATION]),
        }));
      const newest = Math.max(
        0,
        ...owned.map(o => (Number.isFinite(o.revision) ? o.revision : 0)),
      );
      return owned
        .filter(
          ({ rs, revision }) =>
            revision === newest ||
            (rs.spec?.replicas ?? 0) > 0 ||
            (rs.status?.replicas ?? 0) > 0,
        )
        .map(({ rs, revision }): ReleaseReplicaSet => {
          const { replicas, health } = workloadHealth('ReplicaSet', rs);
          const name = rs.metadata?.name ?? '';
          return {
            name,
            owner: `Deployment/${deployment.metadata?.name}`,
            ...(Number.isFinite(revision) && { revision }),
            replicas,
            health,
            events: eventsFor(events, 'ReplicaSet', name, rs.metadata?.uid),
          };
        });
    },
  );
  return lists.flat().sort((a, b) => a.name.localeCompare(b.name));
}

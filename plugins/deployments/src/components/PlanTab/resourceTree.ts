import {
  PlanPod,
  PlanReplicaSet,
  PlanResourceEvent,
  PlanResourceObject,
  PlanResources,
} from '../../api/DeploymentsApi';

/** One row of the resource tree. */
export interface ResourceTreeNode {
  key: string;
  kind: string;
  name: string;
  /** 0 for the release's own objects, more for what they own. */
  depth: number;
  healthy?: boolean;
  /** What the state chip says, e.g. 'present', 'Running'. */
  state: string;
  message: string;
  detail?: string;
  events: PlanResourceEvent[];
  /** Whether the live object can be opened (it exists and is in the namespace). */
  readable: boolean;
  pod?: PlanPod;
  object?: PlanResourceObject;
  replicaSet?: PlanReplicaSet;
}

const POD_OWNER_KINDS = new Set(['StatefulSet', 'DaemonSet', 'Job']);

function describeObject(object: PlanResourceObject): string {
  if (object.replicas) {
    const r = object.replicas;
    return `${r.ready}/${r.desired} ready, ${r.updated} updated, ${r.available} available`;
  }
  if (object.job) {
    const j = object.job;
    return `${j.succeeded} succeeded, ${j.active} active, ${j.failed} failed`;
  }
  // A Service's health message already names its type and addresses.
  if (object.persistentVolumeClaim) return object.persistentVolumeClaim.phase;
  return '';
}

function podNode(pod: PlanPod, depth: number): ResourceTreeNode {
  const waiting = pod.containers
    .filter(c => c.reason)
    .map(c => `${c.name}: ${c.reason}`);
  return {
    key: `Pod/${pod.name}`,
    kind: 'Pod',
    name: pod.name,
    depth,
    healthy: pod.health.healthy,
    state: pod.phase,
    message: pod.health.message,
    detail: [
      `${pod.ready ? 'ready' : 'not ready'}`,
      pod.restarts ? `${pod.restarts} restart(s)` : '',
      ...waiting,
    ]
      .filter(Boolean)
      .join(' · '),
    events: pod.events ?? [],
    readable: true,
    pod,
  };
}

/**
 * The release's objects as a tree by owner: Deployment → ReplicaSet → Pod,
 * StatefulSet/DaemonSet/Job → Pod, the rest (Services, ConfigMaps, …) on
 * their own. Pods whose owner is not shown stay at the top.
 */
export function buildResourceTree(
  resources: PlanResources,
): ResourceTreeNode[] {
  const rows: ResourceTreeNode[] = [];
  const placed = new Set<string>();
  const podsOwnedBy = (owner: string) =>
    resources.pods.filter(
      pod => !placed.has(pod.name) && (pod.owners ?? []).includes(owner),
    );
  const addPods = (owner: string, depth: number) => {
    for (const pod of podsOwnedBy(owner)) {
      placed.add(pod.name);
      rows.push(podNode(pod, depth));
    }
  };

  for (const object of resources.objects) {
    rows.push({
      key: `${object.apiVersion}/${object.kind}/${object.namespace ?? ''}/${
        object.name
      }`,
      kind: object.kind,
      name: object.name,
      depth: 0,
      healthy: object.health?.healthy,
      state: object.state,
      message: object.health?.message ?? object.detail ?? '',
      detail: describeObject(object),
      events: object.events,
      readable: object.state === 'present',
      object,
    });
    const owner = `${object.kind}/${object.name}`;
    if (object.kind === 'Deployment') {
      for (const replicaSet of resources.replicaSets ?? []) {
        if (replicaSet.owner !== owner) continue;
        rows.push({
          key: `ReplicaSet/${replicaSet.name}`,
          kind: 'ReplicaSet',
          name: replicaSet.name,
          depth: 1,
          healthy: replicaSet.health.healthy,
          state:
            replicaSet.revision !== undefined
              ? `revision ${replicaSet.revision}`
              : 'present',
          message: replicaSet.health.message,
          events: replicaSet.events,
          readable: true,
          replicaSet,
        });
        addPods(`ReplicaSet/${replicaSet.name}`, 2);
      }
    } else if (POD_OWNER_KINDS.has(object.kind)) {
      addPods(owner, 1);
    }
  }
  for (const pod of resources.pods) {
    if (!placed.has(pod.name)) rows.push(podNode(pod, 0));
  }
  return rows;
}

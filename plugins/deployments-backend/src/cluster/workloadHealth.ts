import {
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1Pod,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { plural } from './kubeValues';
import {
  JobCounts,
  ResourceCondition,
  ResourceHealth,
  WorkloadReplicas,
} from './releaseResourceTypes';

/** The health of a Deployment, StatefulSet, DaemonSet or ReplicaSet as its controller reports it. */
export function workloadHealth(
  kind: string,
  object: unknown,
): { replicas: WorkloadReplicas; health: ResourceHealth } {
  const problems: string[] = [];
  let replicas: WorkloadReplicas;
  let paused = false;
  let generation: number | undefined;
  let observedGeneration: number | undefined;

  switch (kind) {
    case 'Deployment': {
      const deployment = object as V1Deployment;
      const status = deployment.status ?? {};
      generation = deployment.metadata?.generation;
      observedGeneration = status.observedGeneration;
      paused = deployment.spec?.paused === true;
      replicas = {
        desired: deployment.spec?.replicas ?? 1,
        ready: status.readyReplicas ?? 0,
        updated: status.updatedReplicas ?? 0,
        available: status.availableReplicas ?? 0,
      };
      const progressing = status.conditions?.find(
        c => c.type === 'Progressing',
      );
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        problems.push('progress deadline exceeded');
      }
      const old = (status.replicas ?? 0) - replicas.updated;
      if (old > 0 && replicas.updated >= replicas.desired) {
        problems.push(`${old} old ${plural(old, 'replica')} terminating`);
      }
      break;
    }
    case 'StatefulSet': {
      const statefulSet = object as V1StatefulSet;
      const status = statefulSet.status;
      generation = statefulSet.metadata?.generation;
      observedGeneration = status?.observedGeneration;
      replicas = {
        desired: statefulSet.spec?.replicas ?? 1,
        ready: status?.readyReplicas ?? 0,
        updated: status?.updatedReplicas ?? 0,
        available: status?.availableReplicas ?? 0,
      };
      const strategy = statefulSet.spec?.updateStrategy;
      if (strategy?.type !== 'OnDelete') {
        const partition = strategy?.rollingUpdate?.partition ?? 0;
        if (replicas.updated < replicas.desired - partition) {
          problems.push('update in progress');
        } else if (
          partition === 0 &&
          status?.updateRevision !== undefined &&
          status.currentRevision !== status.updateRevision
        ) {
          problems.push('update in progress');
        }
      }
      break;
    }
    case 'DaemonSet': {
      const daemonSet = object as V1DaemonSet;
      const status = daemonSet.status;
      generation = daemonSet.metadata?.generation;
      observedGeneration = status?.observedGeneration;
      replicas = {
        desired: status?.desiredNumberScheduled ?? 0,
        ready: status?.numberReady ?? 0,
        updated: status?.updatedNumberScheduled ?? 0,
        available: status?.numberAvailable ?? 0,
      };
      if (daemonSet.spec?.updateStrategy?.type === 'OnDelete') {
        // Pods are only replaced by hand, so old ones are expected.
        replicas = { ...replicas, updated: replicas.desired };
      }
      break;
    }
    default: {
      const replicaSet = object as V1ReplicaSet;
      const status = replicaSet.status;
      generation = replicaSet.metadata?.generation;
      observedGeneration = status?.observedGeneration;
      replicas = {
        desired: replicaSet.spec?.replicas ?? 1,
        ready: status?.readyReplicas ?? 0,
        updated: status?.replicas ?? 0,
        available: status?.availableReplicas ?? 0,
      };
    }
  }

  if (
    generation !== undefined &&
    (observedGeneration === undefined || observedGeneration < generation)
  ) {
    problems.unshift('waiting for the controller to see the new spec');
  }
  const { desired, ready, updated, available } = replicas;
  const complete =
    problems.length === 0 &&
    ready >= desired &&
    available >= desired &&
    updated >= desired;
  let message = `${ready}/${desired} replicas ready`;
  if (!complete && updated !== desired) {
    message += `, ${updated} updated`;
  }
  if (problems.length > 0) {
    message += `; ${problems.join('; ')}`;
  }
  if (paused) {
    message += ' (paused)';
  }
  return { replicas, health: { healthy: complete, message } };
}

/** The health of one pod, from its phase, Ready condition and container states. */
export function podHealth(pod: V1Pod): ResourceHealth {
  const phase = pod.status?.phase ?? 'Unknown';
  if (pod.metadata?.deletionTimestamp) {
    return { healthy: false, message: 'terminating' };
  }
  if (phase === 'Succeeded') {
    return { healthy: true, message: 'completed' };
  }
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (
      waiting?.reason &&
      waiting.reason !== 'ContainerCreating' &&
      waiting.reason !== 'PodInitializing'
    ) {
      return {
        healthy: false,
        message: `container ${status.name}: ${waiting.reason}`,
      };
    }
  }
  if (phase === 'Failed') {
    return {
      healthy: false,
      message: `failed${pod.status?.reason ? `: ${pod.status.reason}` : ''}`,
    };
  }
  const unscheduled = pod.status?.conditions?.find(
    c => c.type === 'PodScheduled' && c.status === 'False',
  );
  if (unscheduled) {
    return {
      healthy: false,
      message: `not scheduled${
        unscheduled.reason ? `: ${unscheduled.reason}` : ''
      }`,
    };
  }
  if (phase === 'Running' && isPodReady(pod)) {
    return { healthy: true, message: 'running' };
  }
  return {
    healthy: false,
    message: phase === 'Running' ? 'running, not ready' : phase.toLowerCase(),
  };
}

export function isPodReady(pod: V1Pod): boolean {
  return (
    pod.status?.conditions?.some(
      c => c.type === 'Ready' && c.status === 'True',
    ) === true
  );
}

export function jobHealth(job: V1Job, counts: JobCounts): ResourceHealth {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find(
    c =>
      (c.type === 'Failed' || c.type === 'FailureTarget') &&
      c.status === 'True',
  );
  if (failed) {
    return {
      healthy: false,
      message: `failed${failed.reason ? `: ${failed.reason}` : ''}`,
    };
  }
  if (conditions.some(c => c.type === 'Complete' && c.status === 'True')) {
    return {
      healthy: true,
      message: `complete, ${counts.succeeded} succeeded`,
    };
  }
  if (job.spec?.suspend) {
    return { healthy: true, message: 'suspended' };
  }
  return {
    healthy: true,
    message: `running: ${counts.active} active, ${counts.succeeded} succeeded, ${counts.failed} failed`,
  };
}

/** For kinds we know nothing about: a Ready or Available condition that is False is a problem. */
export function conditionHealth(
  conditions: ResourceCondition[],
): ResourceHealth {
  const failing = conditions.find(
    c => (c.type === 'Ready' || c.type === 'Available') && c.status === 'False',
  );
  if (failing) {
    return {
      healthy: false,
      message: `${failing.type}: ${failing.reason ?? 'False'}${
        failing.message ? ` (${failing.message})` : ''
      }`,
    };
  }
  return { healthy: true, message: 'present' };
}

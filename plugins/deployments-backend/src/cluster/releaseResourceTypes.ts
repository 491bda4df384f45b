/*
 * The shapes a release's live state is reported in, plain JSON for API
 * responses; shared by the readers in this folder.
 */
import { V1LabelSelector } from '@kubernetes/client-node';

/** Whether something is working, in one line a person understands. */
export interface ResourceHealth {
  healthy: boolean;
  message: string;
}

/** A status condition as Kubernetes reports it; times are ISO 8601. */
export interface ResourceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A recent Kubernetes event about an object. */
export interface ResourceEvent {
  /** 'Normal' or 'Warning'. */
  type: string;
  reason: string;
  message: string;
  count: number;
  /** ISO 8601; absent when the event carries no time at all. */
  lastSeen?: string;
}

/** Replica counts of a Deployment, StatefulSet, DaemonSet or ReplicaSet. */
export interface WorkloadReplicas {
  desired: number;
  ready: number;
  /** Replicas running the newest spec (for a ReplicaSet: replicas it created). */
  updated: number;
  available: number;
}

export interface JobCounts {
  active: number;
  succeeded: number;
  failed: number;
  completions?: number;
}

export interface ServiceInfo {
  type: string;
  clusterIP?: string;
  /** LoadBalancer ingress addresses, when assigned. */
  externalAddresses?: string[];
}

/**
 * What became of one object of the release.
 * 'skipped' objects were not read because they are outside the release
 * namespace (cluster-scoped or in another namespace).
 */
export type ReleaseObjectState = 'present' | 'missing' | 'skipped' | 'error';

export interface ReleaseObjectStatus {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  state: ReleaseObjectState;
  /** Absent for skipped objects, whose health is not known. */
  health?: ResourceHealth;
  /** Why the object was skipped or could not be read; safe to show. */
  detail?: string;
  replicas?: WorkloadReplicas;
  job?: JobCounts;
  service?: ServiceInfo;
  persistentVolumeClaim?: { phase: string };
  conditions: ResourceCondition[];
  /** Newest first, at most ten. */
  events: ResourceEvent[];
}

export type ContainerRunState =
  | 'running'
  | 'waiting'
  | 'terminated'
  | 'unknown';

export interface ReleasePodContainer {
  name: string;
  /** An init container, which runs to completion before the others start. */
  init: boolean;
  image?: string;
  ready: boolean;
  restartCount: number;
  state: ContainerRunState;
  /** e.g. 'CrashLoopBackOff' or 'Completed'. */
  reason?: string;
  /** Whether an earlier instance of this container exists, whose logs `previous` reads. */
  hasPrevious: boolean;
}

export interface ReleasePod {
  name: string;
  namespace: string;
  phase: string;
  /** The pod's Ready condition. */
  ready: boolean;
  /** Restarts of all containers together. */
  restarts: number;
  node?: string;
  createdAt?: string;
  /** The release's workloads whose selector matches the pod, as 'Kind/name'. */
  workloads: string[];
  /** The pod's owner references, as 'Kind/name' (e.g. its ReplicaSet). */
  owners: string[];
  containers: ReleasePodContainer[];
  health: ResourceHealth;
}

export interface ReleasePodStatus extends ReleasePod {
  /** Newest first, at most ten. */
  events: ResourceEvent[];
}

/**
 * A ReplicaSet a Deployment of the release owns: not in the release's
 * manifest, but between the Deployment and its pods.
 */
export interface ReleaseReplicaSet {
  name: string;
  /** 'Deployment/name' of its owner. */
  owner: string;
  /** The Deployment revision it holds. */
  revision?: number;
  replicas: WorkloadReplicas;
  health: ResourceHealth;
  /** Newest first, at most ten. */
  events: ResourceEvent[];
}

/** The live state of a Helm release's objects, plain JSON for API responses. */
export interface ReleaseResources {
  namespace: string;
  releaseName: string;
  summary: ResourceHealth;
  objects: ReleaseObjectStatus[];
  /** The Deployments' current and still running ReplicaSets. */
  replicaSets: ReleaseReplicaSet[];
  pods: ReleasePodStatus[];
  /** What could not be read (e.g. events), when the rest could. */
  warnings: string[];
  fetchedAt: string;
}

/** The label Helm charts conventionally put on everything of a release. */
export const RELEASE_INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** A label selector of the release and who it belongs to. */
export interface ReleaseSelector {
  /** 'Kind/name' of the workload, or 'release' for the instance label. */
  owner: string;
  selector: V1LabelSelector;
}

import {
  Advisory,
  ApprovalRequest,
  Chart,
  DeploymentsHealth,
  DryRunResult,
  KeyringStatus,
  Operation,
  ReleasePlan,
  Target,
  ValuesProfile,
} from '@kubedeploy/plugin-deployments-common';
import { DeploymentsApi } from '../api/DeploymentsApi';

/** An error shaped like `ResponseError`: status code plus the backend's error as cause. */
export function responseError(
  statusCode: number,
  name: string,
  message: string,
): Error {
  const cause = new Error(message);
  cause.name = name;
  const error = new Error(`Request failed with ${statusCode}`);
  error.name = 'ResponseError';
  Object.assign(error, { statusCode, cause });
  return error;
}

export const unlockedKeyring: KeyringStatus = {
  state: 'unlocked',
  fingerprint: 'a8156e13048d68b3e7078148025ec225edd4148a',
  createdAt: '2026-11-23T13:08:23.849Z',
  dataKeyCount: 1,
  unlockedBy: 'passphrase',
};

export const teamATarget: Target = {
  name: 'local-team-a',
  displayName: 'Local cluster (team-a)',
  owner: 'group:default/payments',
  apiServerUrl: 'https://127.0.0.1:16443',
  caData: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
  authKind: 'token',
  credentials: { set: true, fingerprint: 'hmac-sha256:0123456789abcdef' },
  allowedNamespaces: ['team-a'],
  allowedClusterScopedKinds: [],
  allowObjectsInOtherAllowedNamespaces: false,
  allowInsecureTls: false,
  production: false,
  namespaceOwners: [
    { namespace: 'team-a', owners: ['group:default/payments'] },
  ],
  requireApproval: false,
  revision: 3,
  createdAt: '2026-11-23T00:00:00Z',
  createdBy: 'user:default/guest',
  updatedAt: '2026-11-23T00:00:00Z',
  updatedBy: 'user:default/guest',
};

export const helloChart: Chart = {
  id: '5f0c5a43-0000-4000-8000-000000000001',
  sourceKind: 'oci',
  reference: 'oci://127.0.0.1:15000/charts/hello',
  name: 'hello',
  version: '0.1.0',
  chartDigest:
    'sha256:9b2f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809',
  manifestDigest:
    'sha256:1111111111111111111111111111111111111111111111111111111111111111',
  appVersion: '1.0.0',
  description: 'A hello world chart',
  dependencies: [],
  defaultValues: 'replicaCount: 1\nimage: nginx\n',
  valuesSchema: {
    type: 'object',
    properties: { replicaCount: { type: 'integer' } },
  },
  hasValuesSchema: true,
  readme: '# Hello\n\nSays hello.',
  archiveSize: 2048,
  registeredAt: '2026-11-23T10:00:00Z',
  registeredBy: 'user:default/guest',
};

export const healthyHealth: DeploymentsHealth = {
  status: 'ok',
  keyring: 'unlocked',
  targets: { total: 2, unreachable: [] },
  releases: { failed: [], pending: [] },
  operations: { running: 0 },
  checkedAt: '2026-11-23T12:00:00Z',
};

export const adminTarget: Target = {
  ...teamATarget,
  name: 'local-admin',
  displayName: 'Local cluster (admin)',
  allowedNamespaces: ['team-a', 'team-b', 'sandbox-*'],
};

export const helloProfile: ValuesProfile = {
  id: '7a1d0c43-0000-4000-8000-000000000002',
  chartId: helloChart.id,
  name: 'payments-dev',
  description: 'Values for the payments team',
  owner: 'group:default/payments',
  revision: 2,
  values: { replicaCount: 2 },
  secretPaths: ['/apiToken'],
  valuesHash: 'sha256:2222',
  createdAt: '2026-11-23T10:00:00Z',
  createdBy: 'user:default/guest',
  updatedAt: '2026-11-23T11:00:00Z',
  updatedBy: 'user:default/guest',
};

export const PAYMENTS_API_REF = 'component:default/payments-api';

/** A plan of payments-api, as drafted; tests spread it with other states. */
export const draftPlan: ReleasePlan = {
  id: '9c3e0c43-0000-4000-8000-000000000003',
  entityRef: PAYMENTS_API_REF,
  entityOwner: 'group:default/payments',
  chartId: helloChart.id,
  chart: { name: 'hello', version: '0.1.0', digest: helloChart.chartDigest },
  target: 'local-team-a',
  namespace: 'team-a',
  releaseName: 'payments-api',
  profileId: helloProfile.id,
  profileRevision: 2,
  options: {
    timeoutSeconds: 300,
    historyMax: 10,
    createNamespace: false,
    runTests: false,
  },
  revision: 1,
  status: 'draft',
  statusChangedAt: '2026-11-23T12:00:00Z',
  statusChangedBy: 'user:default/guest',
  createdAt: '2026-11-23T12:00:00Z',
  createdBy: 'user:default/guest',
  updatedAt: '2026-11-23T12:00:00Z',
  updatedBy: 'user:default/guest',
};

export const passedDryRunResult: DryRunResult = {
  type: 'dry-run',
  passed: true,
  inputsHash: 'sha256:inputs-1',
  chartDigest: helloChart.chartDigest,
  violations: [],
  warnings: [
    {
      object: 'Deployment/payments-api-hello',
      code: 'no-limits',
      message: 'container hello has no memory limit',
    },
  ],
  objects: [
    {
      key: 'apps/v1/Deployment/team-a/payments-api-hello',
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'payments-api-hello',
      namespace: 'team-a',
      source: 'hello/templates/deployment.yaml',
      change: 'changed',
      diff: '--- deployed\n+++ planned\n@@ -1,3 +1,3 @@\n spec:\n-  replicas: 1\n+  replicas: 2\n',
      liveChange: 'changed',
      liveDiff:
        '--- live\n+++ dry-run\n@@ -1,3 +1,3 @@\n spec:\n-  replicas: 1\n+  replicas: 2\n   progressDeadlineSeconds: 600\n',
      manifest:
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments-api-hello\n',
    },
    {
      key: 'v1/ConfigMap/team-a/payments-api-hello',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'payments-api-hello',
      namespace: 'team-a',
      source: 'hello/templates/configmap.yaml',
      change: 'added',
      manifest: 'apiVersion: v1\nkind: ConfigMap\n',
    },
  ],
};

/** A finished operation of draftPlan. */
export function fakeOperation(overrides: Partial<Operation> = {}): Operation {
  return {
    id: '0b5e0c43-0000-4000-8000-000000000004',
    planId: draftPlan.id,
    planRevision: 1,
    kind: 'dry-run',
    status: 'succeeded',
    actor: 'user:default/guest',
    inputsHash: 'sha256:inputs-1',
    target: draftPlan.target,
    namespace: draftPlan.namespace,
    releaseName: draftPlan.releaseName,
    lineCount: 2,
    result: passedDryRunResult,
    createdAt: '2026-11-23T12:01:00Z',
    finishedAt: '2026-11-23T12:01:05Z',
    durationMs: 5000,
    cancelRequested: false,
    ...overrides,
  };
}

/** An open patch advisory of draftPlan's app image: 1.2.3 runs, 1.2.4 is out. */
export function fakeAdvisory(overrides: Partial<Advisory> = {}): Advisory {
  return {
    id: 'adv-1',
    planId: draftPlan.id,
    subjectKind: 'image',
    subject: 'Deployment/payments/app',
    workload: 'Deployment/payments',
    container: 'app',
    initContainer: false,
    running: 'registry.test/team/app:1.2.3',
    source: 'registry.test/team/app',
    kind: 'patch',
    available: '1.2.4',
    remedy: {
      type: 'values',
      valuesPath: 'image.tag',
      from: '1.2.3',
      to: '1.2.4',
      valuesYaml: 'image:\n  tag: 1.2.4\n',
    },
    state: 'open',
    firstSeenAt: '2026-12-03T09:00:00Z',
    lastSeenAt: '2026-12-03T09:30:00Z',
    ...overrides,
  };
}

/** A pending approval request of draftPlan's apply, by another user. */
export function fakeApproval(
  overrides: Partial<ApprovalRequest> = {},
): ApprovalRequest {
  return {
    id: 'a11c0c43-0000-4000-8000-000000000005',
    planId: draftPlan.id,
    planRevision: 1,
    kind: 'apply',
    inputsHash: 'sha256:inputs-1',
    manifestHash: 'sha256:manifest-1',
    dryRunOperationId: '0b5e0c43-0000-4000-8000-000000000004',
    status: 'pending',
    requestedBy: 'user:default/alice',
    requestedAt: '2026-11-23T12:02:00Z',
    comment: 'Two replicas for the launch',
    expiresAt: '2026-11-24T12:02:00Z',
    ...overrides,
  };
}

function notImplemented(name: string) {
  return () => Promise.reject(new Error(`${name} is not faked in this test`));
}

/**
 * A DeploymentsApi for component tests: the seeded demo's state by default,
 * every method a jest mock that tests can override or inspect.
 */
export function fakeDeploymentsApi(
  overrides: Partial<DeploymentsApi> = {},
): jest.Mocked<DeploymentsApi> {
  const api: DeploymentsApi = {
    getLiveness: async () => ({ status: 'ok' }),
    getHealthSummary: async () => healthyHealth,
    getKeyringStatus: async () => unlockedKeyring,
    bootstrapKeyring: notImplemented('bootstrapKeyring'),
    unlockKeyring: notImplemented('unlockKeyring'),
    sealKeyring: async () => ({ ...unlockedKeyring, state: 'sealed' }),
    selfTestKeyring: notImplemented('selfTestKeyring'),
    exportKeyringBackup: notImplemented('exportKeyringBackup'),
    verifyKeyringBackup: notImplemented('verifyKeyringBackup'),
    restoreKeyring: notImplemented('restoreKeyring'),
    rotateKeyring: notImplemented('rotateKeyring'),
    listTargets: async () => ({ items: [teamATarget], totalCount: 1 }),
    getTarget: async () => teamATarget,
    createTarget: notImplemented('createTarget'),
    updateTarget: notImplemented('updateTarget'),
    replaceTargetCredentials: notImplemented('replaceTargetCredentials'),
    testTargetConnection: notImplemented('testTargetConnection'),
    deleteTarget: notImplemented('deleteTarget'),
    listCharts: async () => ({ items: [helloChart], totalCount: 1 }),
    getChart: async () => helloChart,
    listChartVersions: notImplemented('listChartVersions'),
    registerChart: notImplemented('registerChart'),
    deleteChart: notImplemented('deleteChart'),
    listAuditEntries: async () => ({ items: [] }),
    listOperations: async () => ({ items: [] }),
    validateChartValues: async () => ({ violations: [] }),
    listProfiles: async () => ({ items: [helloProfile], totalCount: 1 }),
    getProfile: async () => helloProfile,
    createProfile: async input => ({
      ...helloProfile,
      id: 'new-profile',
      name: input.name ?? 'new',
      revision: 1,
    }),
    updateProfile: async () => ({ ...helloProfile, revision: 3 }),
    deleteProfile: async () => {},
    upgradeProfile: async (_id, input) => ({
      report: {
        fromChartId: helloProfile.chartId,
        fromVersion: '0.1.0',
        toChartId: input.chartId,
        toVersion: '0.2.0',
        droppedKeys: ['/debug'],
        droppedProfileKeys: [],
        addedKeys: ['/tracing'],
        violations: [],
        secretPaths: helloProfile.secretPaths,
      },
      ...(input.dryRun
        ? {}
        : {
            profile: {
              ...helloProfile,
              chartId: input.chartId,
              revision: helloProfile.revision + 1,
            },
          }),
    }),
    listProfileRevisions: async () => ({
      items: [
        { ...helloProfile, profileId: helloProfile.id, revision: 2 },
        {
          ...helloProfile,
          profileId: helloProfile.id,
          revision: 1,
          values: { replicaCount: 1 },
        },
      ],
    }),
    getProfileRevision: async (_id, revision) => ({
      ...helloProfile,
      profileId: helloProfile.id,
      revision,
      values: { replicaCount: revision },
    }),
    listPlans: async () => ({ items: [draftPlan], totalCount: 1 }),
    getPlan: async () => draftPlan,
    createPlan: async input => ({ ...draftPlan, ...input } as ReleasePlan),
    updatePlan: async () => ({ ...draftPlan, revision: 2 }),
    deletePlan: async () => {},
    dryRunPlan: async () => fakeOperation({ status: 'running' }),
    preflightPlan: async () =>
      fakeOperation({ kind: 'preflight', status: 'running' }),
    applyPlan: async () => fakeOperation({ kind: 'apply', status: 'running' }),
    rollbackPlan: async () =>
      fakeOperation({ kind: 'rollback', status: 'running' }),
    uninstallPlan: async () =>
      fakeOperation({ kind: 'uninstall', status: 'running' }),
    getPlanChangeWindow: async () => ({ open: true }),
    listPlanApprovals: async () => ({ items: [], totalCount: 0 }),
    requestPlanApproval: async (_id, input) =>
      fakeApproval({
        kind: input.kind,
        rollbackRevision: input.rollbackRevision,
        comment: input.comment,
        requestedBy: 'user:default/guest',
      }),
    decidePlanApproval: async (_id, approvalId, input) =>
      fakeApproval({
        id: approvalId,
        status: input.decision === 'approve' ? 'approved' : 'rejected',
        decidedBy: 'user:default/guest',
        decidedAt: '2026-11-23T12:03:00Z',
        decisionComment: input.comment,
      }),
    listAdvisories: async () => ({ items: [], problems: [] }),
    getPlanAdvisories: async () => ({ items: [] }),
    checkPlanAdvisories: async () => ({ items: [] }),
    dismissPlanAdvisory: async (_id, advisoryId, input) =>
      fakeAdvisory({
        id: advisoryId,
        state: 'dismissed',
        dismissedBy: 'user:default/guest',
        dismissedAt: '2026-12-03T10:00:00Z',
        dismissReason: input.reason,
        dismissedUntil: input.until,
      }),
    createAdvisoryPlanRevision: async () => ({
      ...draftPlan,
      revision: draftPlan.revision + 1,
    }),
    listPlanOperations: async () => ({
      items: [fakeOperation()],
      totalCount: 1,
    }),
    getPlanResources: async () => ({
      installed: false,
      namespace: 'team-a',
      releaseName: draftPlan.releaseName,
      summary: { healthy: false, message: 'The release is not installed' },
      objects: [],
      pods: [],
      warnings: [],
      fetchedAt: '2026-11-23T12:00:00Z',
    }),
    getPlanHistory: async () => ({ items: [] }),
    getPlanHistoryDiff: async (_id, fromRevision, toRevision) => ({
      from: { revision: fromRevision, chart: 'hello-0.1.0', recorded: true },
      to: { revision: toRevision, chart: 'hello-0.1.0', recorded: true },
      objects: [],
      notes: [],
    }),
    getPlanSync: async () => ({
      status: 'not-installed',
      summary: `No release ${draftPlan.releaseName} is installed in local-team-a/team-a`,
      differences: [],
      checkedAt: '2026-11-23T12:00:00Z',
    }),
    listPlanPods: async () => ({ items: [] }),
    getPlanLogs: async () => '',
    followPlanLogs: async function* followPlanLogs() {},
    getOperation: async () => fakeOperation(),
    listOperationLines: async () => ({ items: [] }),
    getPlanResourceObject: notImplemented('getPlanResourceObject'),
    cancelOperation: async () => fakeOperation({ cancelRequested: true }),
    ...overrides,
  };
  const mocked = {} as Record<string, jest.Mock>;
  for (const [key, fn] of Object.entries(api)) {
    mocked[key] = jest.fn(fn as (...args: unknown[]) => unknown);
  }
  return mocked as unknown as jest.Mocked<DeploymentsApi>;
}

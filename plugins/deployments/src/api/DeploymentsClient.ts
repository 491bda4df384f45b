import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  Advisory,
  AdvisoryOverview,
  PlanAdvisories,
  ApprovalDecisionInput,
  ApprovalRequest,
  ApprovalRequestInput,
  ChangeWindowStatus,
  Chart,
  DeploymentsHealth,
  Operation,
  OperationLine,
  ReleaseHistoryEntry,
  ReleaseRevisionDiff,
  ReleaseSyncState,
  ReleasePlan,
  ReleasePlanInput,
  ValuesProfile,
  ValuesProfileInput,
  ValuesProfileRevision,
  ValuesProfileUpgrade,
  ValuesProfileUpgradeInput,
  ValuesViolation,
  KeyringBackupVerification,
  KeyringSelfTestResult,
  KeyringStatus,
  Target,
  TargetConnectionTestResult,
  TargetCredentialsInput,
} from '@kubedeploy/plugin-deployments-common';
import {
  CreateTargetRequest,
  DeploymentsApi,
  DeploymentsAuditEntry,
  DeploymentsAuditQuery,
  DeploymentsLiveness,
  OperationListQuery,
  KeyringBackupUpload,
  PlanChangeOptions,
  PlanLogsQuery,
  PlanPod,
  PlanResourceObjectDetail,
  PlanResources,
  UpdateTargetRequest,
} from './DeploymentsApi';

type Query = Record<string, string | number | undefined>;

/**
 * The HTTP client of the deployments backend.
 * @public
 */
export class DeploymentsClient implements DeploymentsApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  async getLiveness(): Promise<DeploymentsLiveness> {
    return this.json('GET', '/health');
  }

  async getHealthSummary(): Promise<DeploymentsHealth> {
    return this.json('GET', '/health/summary');
  }

  async getKeyringStatus(): Promise<KeyringStatus> {
    return this.json('GET', '/keyring');
  }

  async bootstrapKeyring(passphrase: string): Promise<KeyringStatus> {
    return this.json('POST', '/keyring/bootstrap', { body: { passphrase } });
  }

  async unlockKeyring(passphrase: string): Promise<KeyringStatus> {
    return this.json('POST', '/keyring/unlock', { body: { passphrase } });
  }

  async sealKeyring(): Promise<KeyringStatus> {
    return this.json('POST', '/keyring/seal');
  }

  async selfTestKeyring(): Promise<KeyringSelfTestResult> {
    return this.json('POST', '/keyring/self-test');
  }

  async exportKeyringBackup(passphrase: string): Promise<Blob> {
    const response = await this.request('POST', '/keyring/backup', {
      body: { passphrase },
    });
    return response.blob();
  }

  async verifyKeyringBackup(
    upload: KeyringBackupUpload,
  ): Promise<KeyringBackupVerification> {
    return this.json('POST', '/keyring/backup/verify', { body: upload });
  }

  async restoreKeyring(upload: KeyringBackupUpload): Promise<KeyringStatus> {
    return this.json('POST', '/keyring/restore', { body: upload });
  }

  async rotateKeyring(passphrase: string): Promise<KeyringStatus> {
    return this.json('POST', '/keyring/rotate', { body: { passphrase } });
  }

  async listTargets(
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ items: Target[]; totalCount: number }> {
    return this.json('GET', '/targets', { query: options });
  }

  async getTarget(name: string): Promise<Target> {
    return this.json('GET', `/targets/${encodeURIComponent(name)}`);
  }

  async createTarget(request: CreateTargetRequest): Promise<Target> {
    return this.json('POST', '/targets', { body: request });
  }

  async updateTarget(
    name: string,
    request: UpdateTargetRequest,
  ): Promise<Target> {
    return this.json('PATCH', `/targets/${encodeURIComponent(name)}`, {
      body: request,
    });
  }

  async replaceTargetCredentials(
    name: string,
    credentials: TargetCredentialsInput,
  ): Promise<Target> {
    return this.json(
      'PUT',
      `/targets/${encodeURIComponent(name)}/credentials`,
      { body: credentials },
    );
  }

  async testTargetConnection(
    name: string,
  ): Promise<TargetConnectionTestResult> {
    return this.json(
      'POST',
      `/targets/${encodeURIComponent(name)}/test-connection`,
    );
  }

  async deleteTarget(name: string): Promise<void> {
    await this.request('DELETE', `/targets/${encodeURIComponent(name)}`);
  }

  async listCharts(
    options: { name?: string; limit?: number; offset?: number } = {},
  ): Promise<{ items: Chart[]; totalCount: number }> {
    return this.json('GET', '/charts', { query: options });
  }

  async getChart(id: string): Promise<Chart> {
    return this.json('GET', `/charts/${encodeURIComponent(id)}`);
  }

  async listChartVersions(reference: string): Promise<{ versions: string[] }> {
    return this.json('GET', '/charts/versions', { query: { reference } });
  }

  async registerChart(request: {
    reference: string;
    version?: string;
  }): Promise<{ chart: Chart; created: boolean }> {
    const response = await this.request('POST', '/charts', { body: request });
    return { chart: await response.json(), created: response.status === 201 };
  }

  async deleteChart(id: string): Promise<void> {
    await this.request('DELETE', `/charts/${encodeURIComponent(id)}`);
  }

  async listAuditEntries(
    query: DeploymentsAuditQuery = {},
  ): Promise<{ items: DeploymentsAuditEntry[] }> {
    return this.json('GET', '/audit', { query: { ...query } });
  }

  async validateChartValues(
    chartId: string,
    input: { values?: Record<string, unknown>; valuesYaml?: string },
  ): Promise<{ violations: ValuesViolation[] }> {
    return this.json(
      'POST',
      `/charts/${encodeURIComponent(chartId)}/values/validate`,
      { body: input },
    );
  }

  async listProfiles(
    options: { chartId?: string; limit?: number; offset?: number } = {},
  ): Promise<{ items: ValuesProfile[]; totalCount: number }> {
    return this.json('GET', '/profiles', { query: options });
  }

  async getProfile(id: string): Promise<ValuesProfile> {
    return this.json('GET', `/profiles/${encodeURIComponent(id)}`);
  }

  async createProfile(input: ValuesProfileInput): Promise<ValuesProfile> {
    return this.json('POST', '/profiles', { body: input });
  }

  async updateProfile(
    id: string,
    input: ValuesProfileInput,
  ): Promise<ValuesProfile> {
    return this.json('PUT', `/profiles/${encodeURIComponent(id)}`, {
      body: input,
    });
  }

  async upgradeProfile(
    id: string,
    input: ValuesProfileUpgradeInput,
  ): Promise<ValuesProfileUpgrade> {
    return this.json('POST', `/profiles/${encodeURIComponent(id)}/upgrade`, {
      body: input,
    });
  }

  async deleteProfile(id: string): Promise<void> {
    await this.request('DELETE', `/profiles/${encodeURIComponent(id)}`);
  }

  async listProfileRevisions(
    id: string,
  ): Promise<{ items: ValuesProfileRevision[] }> {
    return this.json('GET', `/profiles/${encodeURIComponent(id)}/revisions`);
  }

  async getProfileRevision(
    id: string,
    revision: number,
  ): Promise<ValuesProfileRevision> {
    return this.json(
      'GET',
      `/profiles/${encodeURIComponent(id)}/revisions/${revision}`,
    );
  }

  async listPlans(
    options: {
      entityRef?: string;
      target?: string;
      limit?: number;
      offset?: number;
    } = {},
  ): Promise<{ items: ReleasePlan[]; totalCount: number }> {
    return this.json('GET', '/plans', { query: options });
  }

  async getPlan(id: string): Promise<ReleasePlan> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}`);
  }

  async createPlan(input: ReleasePlanInput): Promise<ReleasePlan> {
    return this.json('POST', '/plans', { body: input });
  }

  async updatePlan(id: string, input: ReleasePlanInput): Promise<ReleasePlan> {
    return this.json('PUT', `/plans/${encodeURIComponent(id)}`, {
      body: input,
    });
  }

  async deletePlan(id: string): Promise<void> {
    await this.request('DELETE', `/plans/${encodeURIComponent(id)}`);
  }

  async dryRunPlan(id: string): Promise<Operation> {
    return this.json('POST', `/plans/${encodeURIComponent(id)}/dry-run`);
  }

  async preflightPlan(id: string): Promise<Operation> {
    return this.json('POST', `/plans/${encodeURIComponent(id)}/preflight`);
  }

  async applyPlan(
    id: string,
    options: PlanChangeOptions = {},
  ): Promise<Operation> {
    return this.json('POST', `/plans/${encodeURIComponent(id)}/apply`, {
      body: overrideBody(options),
    });
  }

  async rollbackPlan(
    id: string,
    revision?: number,
    options: PlanChangeOptions = {},
  ): Promise<Operation> {
    return this.json('POST', `/plans/${encodeURIComponent(id)}/rollback`, {
      body: {
        ...(revision === undefined ? {} : { revision }),
        ...overrideBody(options),
      },
    });
  }

  async uninstallPlan(
    id: string,
    confirmReleaseName: string,
    options: PlanChangeOptions = {},
  ): Promise<Operation> {
    return this.json('POST', `/plans/${encodeURIComponent(id)}/uninstall`, {
      body: { confirmReleaseName, ...overrideBody(options) },
    });
  }

  async getPlanChangeWindow(id: string): Promise<ChangeWindowStatus> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/change-window`);
  }

  async listPlanApprovals(
    id: string,
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ items: ApprovalRequest[]; totalCount: number }> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/approvals`, {
      query: options,
    });
  }

  async requestPlanApproval(
    id: string,
    input: ApprovalRequestInput,
  ): Promise<ApprovalRequest> {
    return this.json('POST', `/plans/${encodeURIComponent(id)}/approvals`, {
      body: input,
    });
  }

  async decidePlanApproval(
    id: string,
    approvalId: string,
    input: ApprovalDecisionInput,
  ): Promise<ApprovalRequest> {
    return this.json(
      'POST',
      `/plans/${encodeURIComponent(id)}/approvals/${encodeURIComponent(
        approvalId,
      )}/decision`,
      { body: input },
    );
  }

  async listAdvisories(
    options: { entityRef?: string; includeResolved?: boolean } = {},
  ): Promise<AdvisoryOverview> {
    return this.json('GET', '/advisories', {
      query: {
        entityRef: options.entityRef,
        includeResolved: options.includeResolved ? 'true' : undefined,
      },
    });
  }

  async getPlanAdvisories(
    id: string,
    options: { includeResolved?: boolean } = {},
  ): Promise<PlanAdvisories> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/advisories`, {
      query: {
        includeResolved: options.includeResolved ? 'true' : undefined,
      },
    });
  }

  async checkPlanAdvisories(id: string): Promise<PlanAdvisories> {
    return this.json(
      'POST',
      `/plans/${encodeURIComponent(id)}/advisories/check`,
    );
  }

  async dismissPlanAdvisory(
    id: string,
    advisoryId: string,
    input: { reason: string; until?: string },
  ): Promise<Advisory> {
    return this.json(
      'POST',
      `/plans/${encodeURIComponent(id)}/advisories/${encodeURIComponent(
        advisoryId,
      )}/dismiss`,
      { body: input },
    );
  }

  async createAdvisoryPlanRevision(
    id: string,
    advisoryId: string,
  ): Promise<ReleasePlan> {
    return this.json(
      'POST',
      `/plans/${encodeURIComponent(id)}/advisories/${encodeURIComponent(
        advisoryId,
      )}/plan-revision`,
    );
  }

  async listPlanOperations(
    id: string,
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ items: Operation[]; totalCount: number }> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/operations`, {
      query: options,
    });
  }

  async getPlanResources(id: string): Promise<PlanResources> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/resources`);
  }

  async getPlanResourceObject(
    id: string,
    object: { kind: string; name: string; apiVersion?: string },
  ): Promise<PlanResourceObjectDetail> {
    return this.json(
      'GET',
      `/plans/${encodeURIComponent(id)}/resources/object`,
      { query: { ...object } },
    );
  }

  async getPlanHistory(id: string): Promise<{ items: ReleaseHistoryEntry[] }> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/history`);
  }

  async getPlanHistoryDiff(
    id: string,
    fromRevision: number,
    toRevision: number,
  ): Promise<ReleaseRevisionDiff> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/history/diff`, {
      query: { fromRevision, toRevision },
    });
  }

  async getPlanSync(id: string): Promise<ReleaseSyncState> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/sync`);
  }

  async listPlanPods(id: string): Promise<{ items: PlanPod[] }> {
    return this.json('GET', `/plans/${encodeURIComponent(id)}/pods`);
  }

  async getPlanLogs(id: string, query: PlanLogsQuery): Promise<string> {
    const response = await this.request(
      'GET',
      `/plans/${encodeURIComponent(id)}/logs`,
      { query: logsQuery(query) },
    );
    return response.text();
  }

  async *followPlanLogs(
    id: string,
    query: PlanLogsQuery,
    signal: AbortSignal,
  ): AsyncIterable<string> {
    const response = await this.request(
      'GET',
      `/plans/${encodeURIComponent(id)}/logs`,
      { query: { ...logsQuery(query), follow: 'true' }, signal },
    );
    if (!response.body) {
      // No streaming body (old browsers, some fetch polyfills): the whole text at once.
      yield await response.text();
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        if (text) yield text;
      }
      const rest = decoder.decode();
      if (rest) yield rest;
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  async listOperations(
    query: OperationListQuery = {},
  ): Promise<{ items: Operation[]; nextCursor?: string }> {
    return this.json('GET', '/operations', { query: { ...query } });
  }

  async getOperation(id: string): Promise<Operation> {
    return this.json('GET', `/operations/${encodeURIComponent(id)}`);
  }

  async listOperationLines(
    id: string,
    options: { after?: number; limit?: number } = {},
  ): Promise<{ items: OperationLine[] }> {
    return this.json('GET', `/operations/${encodeURIComponent(id)}/lines`, {
      query: options,
    });
  }

  async cancelOperation(id: string): Promise<Operation> {
    return this.json('POST', `/operations/${encodeURIComponent(id)}/cancel`);
  }

  private async json<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query } = {},
  ): Promise<T> {
    const response = await this.request(method, path, options);
    return (await response.json()) as T;
  }

  private async request(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const baseUrl = await this.discoveryApi.getBaseUrl('deployments');
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') query.set(key, String(value));
    }
    const suffix = query.size ? `?${query}` : '';
    const response = await this.fetchApi.fetch(`${baseUrl}${path}${suffix}`, {
      method,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.body !== undefined
        ? {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(options.body),
          }
        : {}),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response;
  }
}

/** The override part of an operation's body; nothing when there is no reason. */
function overrideBody(options: PlanChangeOptions): { overrideReason?: string } {
  const reason = options.overrideReason?.trim();
  return reason ? { overrideReason: reason } : {};
}

function logsQuery(query: PlanLogsQuery): Query {
  return {
    pod: query.pod,
    container: query.container,
    previous: query.previous ? 'true' : undefined,
    tailLines: query.all ? undefined : query.tailLines,
    all: query.all ? 'true' : undefined,
    sinceSeconds: query.sinceSeconds,
    timestamps: query.timestamps ? 'true' : undefined,
  };
}

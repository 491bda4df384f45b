import {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  Chart,
  Operation,
  ReleasePlan,
  ReleasePlanInput,
  ValuesProfile,
} from '@kubedeploy/plugin-deployments-common';

/**
 * The deployments backend as the scaffolder calls it: always on behalf of
 * the user who runs the template, so their permissions apply.
 */
export class DeploymentsApiClient {
  private constructor(
    private readonly discovery: DiscoveryService,
    private readonly auth: AuthService,
  ) {}

  static create(options: {
    discovery: DiscoveryService;
    auth: AuthService;
  }): DeploymentsApiClient {
    return new DeploymentsApiClient(options.discovery, options.auth);
  }

  async findChart(
    credentials: BackstageCredentials,
    name: string,
    version: string,
  ): Promise<Chart | undefined> {
    const page = await this.call<{ items: Chart[] }>(
      credentials,
      'GET',
      `/charts?name=${encodeURIComponent(name)}&limit=500`,
    );
    return page.items.find(chart => chart.version === version);
  }

  async findProfile(
    credentials: BackstageCredentials,
    chartId: string,
    name: string,
  ): Promise<ValuesProfile | undefined> {
    const page = await this.call<{ items: ValuesProfile[] }>(
      credentials,
      'GET',
      `/profiles?chartId=${encodeURIComponent(chartId)}&limit=500`,
    );
    return page.items.find(profile => profile.name === name);
  }

  async findPlan(
    credentials: BackstageCredentials,
    entityRef: string,
    releaseName: string,
  ): Promise<ReleasePlan | undefined> {
    const page = await this.call<{ items: ReleasePlan[] }>(
      credentials,
      'GET',
      `/plans?entityRef=${encodeURIComponent(entityRef)}&limit=500`,
    );
    return page.items.find(plan => plan.releaseName === releaseName);
  }

  createPlan(
    credentials: BackstageCredentials,
    input: ReleasePlanInput,
  ): Promise<ReleasePlan> {
    return this.call(credentials, 'POST', '/plans', input);
  }

  startDryRun(
    credentials: BackstageCredentials,
    planId: string,
  ): Promise<Operation> {
    return this.call(
      credentials,
      'POST',
      `/plans/${encodeURIComponent(planId)}/dry-run`,
    );
  }

  private async call<T>(
    credentials: BackstageCredentials,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const [baseUrl, { token }] = await Promise.all([
      this.discovery.getBaseUrl('deployments'),
      this.auth.getPluginRequestToken({
        onBehalfOf: credentials,
        targetPluginId: 'deployments',
      }),
    ]);
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}

import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { KeyringStatus, Target } from '@kubedeploy/plugin-deployments-common';
import { DeploymentsApi, DeploymentsLiveness } from './DeploymentsApi';

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
    return this.get<DeploymentsLiveness>('/health');
  }

  async getKeyringStatus(): Promise<KeyringStatus> {
    return this.get<KeyringStatus>('/keyring');
  }

  async listTargets(
    options: { limit?: number; offset?: number } = {},
  ): Promise<{ items: Target[]; totalCount: number }> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.offset !== undefined)
      query.set('offset', String(options.offset));
    const suffix = query.size ? `?${query}` : '';
    return this.get(`/targets${suffix}`);
  }

  private async get<T>(path: string): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('deployments');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`);
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}

/** A registered chart version as the API returns it (without the archive). @public */
export interface Chart {
  id: string;
  sourceKind: 'oci';
  /** e.g. `oci://registry.example/charts/hello`, without tag or digest. */
  reference: string;
  name: string;
  version: string;
  /** sha256 of the chart archive: what every Helm run is pinned to. */
  chartDigest: string;
  manifestDigest?: string;
  appVersion?: string;
  description?: string;
  kubeVersion?: string;
  icon?: string;
  dependencies: Array<{ name: string; version?: string; repository?: string }>;
  defaultValues?: string;
  valuesSchema?: Record<string, unknown>;
  hasValuesSchema: boolean;
  readme?: string;
  archiveSize: number;
  registeredAt: string;
  registeredBy: string;
}

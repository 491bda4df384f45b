/** A registered chart version as the API returns it (without the archive). @public */
export interface Chart {
  id: string;
  /** `oci`: an OCI registry; `http`: a classic Helm repository with an `index.yaml`. */
  sourceKind: 'oci' | 'http';
  /**
   * Without version: `oci://registry.example/charts/hello` (no tag or digest),
   * or the repository URL and the chart's name, `https://charts.example/stable/hello`.
   */
  reference: string;
  name: string;
  version: string;
  /** sha256 of the chart archive: what every Helm run is pinned to. */
  chartDigest: string;
  /** The OCI manifest's digest; HTTP repositories have none. */
  manifestDigest?: string;
  appVersion?: string;
  description?: string;
  kubeVersion?: string;
  icon?: string;
  dependencies: Array<{ name: string; version?: string; repository?: string }>;
  /**
   * The files under the `crds/` folders of the chart and its subcharts, with
   * the CustomResourceDefinitions each defines. Never installed by the portal
   * (helm runs with `--skip-crds`); install them separately. Absent for charts
   * registered before this was recorded.
   */
  crds?: Array<{ file: string; names: string[] }>;
  defaultValues?: string;
  valuesSchema?: Record<string, unknown>;
  hasValuesSchema: boolean;
  readme?: string;
  archiveSize: number;
  registeredAt: string;
  registeredBy: string;
}

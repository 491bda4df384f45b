import { CoreV1Api } from '@kubernetes/client-node';
import { createRedactor, Redactor } from '../lib/redaction';
import { mapWithConcurrency } from '../lib/mapWithConcurrency';
import { READ_CONCURRENCY } from './releaseObjects';

/**
 * A redactor of the values of the release's Secrets as they are in the
 * cluster, for what is shown of the release besides them (container logs,
 * events, other objects' YAML: a chart may copy a Secret's value into an
 * env var or a ConfigMap, a container may print it). The values stay in
 * memory for this call only.
 *
 * @throws when a Secret exists but cannot be read
 */
export async function releaseSecretRedactor(
  core: CoreV1Api,
  namespace: string,
  secrets: ReadonlyArray<{ name: string }>,
): Promise<Redactor> {
  const values: string[] = [];
  const read = await mapWithConcurrency(secrets, READ_CONCURRENCY, ref =>
    core
      .readNamespacedSecret({ name: ref.name, namespace })
      .catch((error: unknown) => {
        // Not created yet (or already removed): nothing of it can be shown.
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      }),
  );
  for (const secret of read) {
    for (const value of Object.values(secret?.data ?? {})) {
      values.push(Buffer.from(value, 'base64').toString('utf8'));
    }
    for (const value of Object.values(secret?.stringData ?? {})) {
      values.push(value);
    }
  }
  return createRedactor(values);
}

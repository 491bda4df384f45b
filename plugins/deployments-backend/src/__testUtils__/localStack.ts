import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * What `scripts/stack env` exports: the local cluster, registries and
 * database that integration tests run against.
 */
export interface LocalStack {
  adminKubeconfigPath: string;
  apiServerUrl: string;
  caPem: string;
  limitedToken: string;
  limitedNamespace: string;
  registry: string;
  authRegistry: string;
  registryUser: string;
  registryPassword: string;
  /** Digests `helm push` printed, by `${registry}/${chart}`. */
  pushedDigests: Map<string, string>;
}

/**
 * Reads the local stack from the environment, or returns undefined when the
 * stack is not running so suites can say so instead of failing obscurely.
 */
export function readLocalStack(): LocalStack | undefined {
  const env = process.env;
  if (!env.KUBEDEPLOY_KUBECONFIG || !env.KUBEDEPLOY_REGISTRY) {
    return undefined;
  }
  const pushedDigests = new Map<string, string>();
  for (const line of readFileSync(env.KUBEDEPLOY_CHART_DIGESTS!, 'utf8').split(
    '\n',
  )) {
    const [registry, chart, digest] = line.split('\t');
    if (digest) pushedDigests.set(`${registry}/${chart}`, digest);
  }
  return {
    adminKubeconfigPath: env.KUBEDEPLOY_KUBECONFIG,
    apiServerUrl: env.KUBEDEPLOY_API_SERVER!,
    caPem: readFileSync(env.KUBEDEPLOY_CA_FILE!, 'utf8'),
    limitedToken: readFileSync(
      env.KUBEDEPLOY_LIMITED_TOKEN_FILE!,
      'utf8',
    ).trim(),
    limitedNamespace: env.KUBEDEPLOY_LIMITED_NAMESPACE!,
    registry: env.KUBEDEPLOY_REGISTRY,
    authRegistry: env.KUBEDEPLOY_REGISTRY_AUTH!,
    registryUser: env.KUBEDEPLOY_REGISTRY_USER!,
    registryPassword: readFileSync(
      env.KUBEDEPLOY_REGISTRY_PASSWORD_FILE!,
      'utf8',
    ).trim(),
    pushedDigests,
  };
}

/** `describe` that fails loudly when the stack is missing (tests must not silently pass). */
export function requireLocalStack(): LocalStack {
  const stack = readLocalStack();
  if (!stack) {
    throw new Error(
      'The local stack is not running: run `scripts/stack up` and `eval "$(scripts/stack env)"`, or use scripts/test',
    );
  }
  return stack;
}

/**
 * Runs the helm CLI with private HELM_* directories, like every real run must.
 * Returns stdout and stderr; rejects with both on a non-zero exit.
 */
export async function runHelm(
  args: string[],
  options: { kubeconfig?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'kd-helm-'));
  try {
    return await execFileAsync('helm', args, {
      timeout: options.timeoutMs ?? 180_000,
      killSignal: 'SIGTERM',
      maxBuffer: 16 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_DATA_HOME: join(home, 'data'),
        ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
      },
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

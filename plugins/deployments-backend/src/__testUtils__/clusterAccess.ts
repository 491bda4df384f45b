import { readFileSync } from 'node:fs';
import { ClusterAccess } from '../cluster/ClusterConnection';
import { parseKubeconfig } from '../targets/kubeconfig/parseKubeconfig';
import { LocalStack } from './localStack';

/** The stack's admin kubeconfig, read the way a stored target is. */
export function adminAccess(stack: LocalStack): ClusterAccess {
  const parsed = parseKubeconfig(
    readFileSync(stack.adminKubeconfigPath, 'utf8'),
    {
      allowInsecureTls: false,
    },
  );
  return {
    server: parsed.server,
    caData: parsed.caData,
    credentials: parsed.credentials,
  };
}

/** The ServiceAccount token that may deploy to team-a only. */
export function limitedAccess(stack: LocalStack): ClusterAccess {
  return {
    server: stack.apiServerUrl,
    caData: stack.caPem,
    credentials: { kind: 'token', token: stack.limitedToken },
  };
}

import { StoredTarget } from '../DatabaseTargetStore';
import { TargetAuthStrategies } from '.';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

const target: StoredTarget = {
  id: 't',
  name: 'dev',
  displayName: 'dev',
  apiServerUrl: '',
  authKind: 'token',
  credentialsVersion: 0,
  allowedNamespaces: [],
  allowedClusterScopedKinds: [],
  allowObjectsInOtherAllowedNamespaces: false,
  allowInsecureTls: false,
  production: false,
  namespaceOwners: [],
  requireApproval: false,
  revision: 1,
  createdAt: '',
  createdBy: '',
  updatedAt: '',
  updatedBy: '',
};

function kubeconfig(clusterExtra = '') {
  return `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://k8s.example.com:6443
    certificate-authority-data: ${Buffer.from(CA).toString('base64')}
${clusterExtra}
users:
- name: u
  user:
    token: abcdefgh12345678
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`;
}

describe('TargetAuthStrategies', () => {
  const auth = new TargetAuthStrategies();

  it('reads each kind with exactly its fields', () => {
    expect(auth.readInput({ authKind: 'token', token: 'abc' })).toEqual({
      authKind: 'token',
      token: 'abc',
    });
    expect(() =>
      auth.readInput({ authKind: 'token', token: 'a', kubeconfig: 'b' }),
    ).toThrow(/authKind token needs `token` \(and no `kubeconfig`\)/);
    expect(() => auth.readInput({ authKind: 'kubeconfig' })).toThrow(
      /needs `kubeconfig`/,
    );
    expect(() => auth.readInput({ authKind: 'inCluster', token: 'a' })).toThrow(
      /takes no credentials/,
    );
    expect(() => auth.for('exec' as unknown as 'token')).toThrow(
      /Unknown authKind "exec"; expected one of kubeconfig, token, inCluster/,
    );
  });

  it('takes a kubeconfig target’s server and CA from the kubeconfig', () => {
    const entered = auth
      .for('kubeconfig')
      .enter(target, { authKind: 'kubeconfig', kubeconfig: kubeconfig() });
    expect(entered.target).toMatchObject({
      apiServerUrl: 'https://k8s.example.com:6443',
      caData: CA,
    });
    expect(entered.payload).toEqual({
      kind: 'token',
      token: 'abcdefgh12345678',
    });
  });

  it('refuses a kubeconfig whose tls-server-name it could not honour', () => {
    expect(() =>
      auth.for('kubeconfig').enter(target, {
        authKind: 'kubeconfig',
        kubeconfig: kubeconfig('    tls-server-name: kubernetes.default.svc'),
      }),
    ).toThrow(/sets tls-server-name, which targets do not support/);
  });

  it('seals a marker for in-cluster targets and stores no secret', () => {
    const inCluster = auth.for('inCluster');
    expect(inCluster.storesSecret).toBe(false);
    expect(inCluster.needsCa).toBe(false);
    expect(
      inCluster.enter(
        { ...target, caData: CA, apiServerUrl: 'https://x' },
        { authKind: 'inCluster' },
      ),
    ).toEqual({
      target: expect.objectContaining({
        apiServerUrl: 'https://kubernetes.default.svc',
        caData: undefined,
      }),
      payload: { kind: 'inCluster' },
    });
    expect(() =>
      inCluster.access(target, { kind: 'token', token: 'x' }),
    ).toThrow(/holds a stored credential/);
  });
});

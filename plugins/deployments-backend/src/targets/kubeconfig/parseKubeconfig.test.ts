import { InputError } from '@backstage/errors';
import { generateKeyPairSync } from 'node:crypto';
import {
  buildKubeconfig,
  CORPUS_TOKEN,
  hostileKubeconfigs,
} from './hostileKubeconfigs';
import { parseKubeconfig } from './parseKubeconfig';

const strict = { allowInsecureTls: false };
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function refusal(text: string, options = strict): Error {
  try {
    parseKubeconfig(text, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as Error;
  }
  throw new Error('expected the kubeconfig to be refused');
}

/** A throwaway key pair; the certificate only has to look like PEM. */
function throwawayClientCertificate() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  const body = publicKey.toString('base64').replace(/.{1,64}/g, '$&\n');
  const certificate = `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
  return { certificate, privateKey };
}

const CA = `-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n`;

describe('parseKubeconfig', () => {
  describe('accepts', () => {
    it('a token kubeconfig', () => {
      const text = buildKubeconfig({
        cluster: [
          'server: https://k8s.example.com:6443',
          `certificate-authority-data: ${base64(CA)}`,
          'tls-server-name: kubernetes.default.svc',
          'disable-compression: true',
        ],
        context: ['cluster: prod', 'user: deployer', 'namespace: team-a'],
        extra: ['preferences: {colors: true}'],
      });

      expect(parseKubeconfig(text, strict)).toEqual({
        server: 'https://k8s.example.com:6443',
        caData: CA,
        tlsServerName: 'kubernetes.default.svc',
        insecureSkipTlsVerify: false,
        credentials: { kind: 'token', token: CORPUS_TOKEN },
        contextNamespace: 'team-a',
      });
    });

    it('a client certificate kubeconfig', () => {
      const { certificate, privateKey } = throwawayClientCertificate();
      const text = buildKubeconfig({
        user: [
          `client-certificate-data: ${base64(certificate)}`,
          `client-key-data: ${base64(privateKey)}`,
        ],
      });

      expect(parseKubeconfig(text, strict)).toEqual({
        server: 'https://k8s.example.com:6443',
        insecureSkipTlsVerify: false,
        credentials: {
          kind: 'clientCertificate',
          certData: certificate,
          keyData: privateKey,
        },
      });
    });

    it('basic credentials', () => {
      const text = buildKubeconfig({
        user: ['username: admin', 'password: "correct horse"'],
      });

      expect(parseKubeconfig(text, strict)).toMatchObject({
        credentials: {
          kind: 'basic',
          username: 'admin',
          password: 'correct horse',
        },
      });
    });

    it('a kubeconfig without kind, apiVersion or current-context', () => {
      const text = buildKubeconfig()
        .replace('apiVersion: v1\n', '')
        .replace('kind: Config\n', '')
        .replace('current-context: prod\n', 'current-context: ""\n');

      expect(parseKubeconfig(text, strict).credentials).toEqual({
        kind: 'token',
        token: CORPUS_TOKEN,
      });
    });

    it('a few harmless YAML aliases', () => {
      const text = buildKubeconfig({
        context: ['cluster: &name prod', 'user: deployer'],
        extra: ['preferences: {a: *name, b: *name}'],
      });
      expect(parseKubeconfig(text, strict).server).toBe(
        'https://k8s.example.com:6443',
      );
    });

    it('insecure TLS and plain http only when the option allows it', () => {
      const insecure = buildKubeconfig({
        cluster: [
          'server: https://k8s.example.com:6443',
          'insecure-skip-tls-verify: true',
        ],
      });
      const http = buildKubeconfig({
        cluster: ['server: http://10.0.0.1:8080'],
      });
      const allowed = { allowInsecureTls: true };

      expect(parseKubeconfig(insecure, allowed).insecureSkipTlsVerify).toBe(
        true,
      );
      expect(parseKubeconfig(http, allowed).server).toBe(
        'http://10.0.0.1:8080',
      );
      expect(refusal(insecure).message).toMatch(/insecure-skip-tls-verify/);
      expect(refusal(http).message).toMatch(/server must be an https:\/\/ URL/);
    });
  });

  describe('refuses', () => {
    it('has a corpus of at least 18 hostile kubeconfigs', () => {
      expect(hostileKubeconfigs.length).toBeGreaterThanOrEqual(18);
      expect(new Set(hostileKubeconfigs.map(h => h.name)).size).toBe(
        hostileKubeconfigs.length,
      );
    });

    it.each(hostileKubeconfigs.map(h => [h.name, h] as const))(
      '%s',
      (_name, hostile) => {
        expect(refusal(hostile.text).message).toMatch(hostile.field);
      },
    );

    it.each(
      hostileKubeconfigs
        .filter(h => !h.allowedWithInsecureTls)
        .map(h => [h.name, h] as const),
    )('%s, even when insecure TLS is allowed', (_name, hostile) => {
      expect(refusal(hostile.text, { allowInsecureTls: true }).message).toMatch(
        hostile.field,
      );
    });

    it('insecure-skip-tls-verify together with a CA, even when insecure TLS is allowed', () => {
      const text = buildKubeconfig({
        cluster: [
          'server: https://k8s.example.com',
          `certificate-authority-data: ${base64(CA)}`,
          'insecure-skip-tls-verify: true',
        ],
      });
      expect(refusal(text, { allowInsecureTls: true }).message).toMatch(
        /insecure-skip-tls-verify cannot be combined/,
      );
    });

    it.each([
      ['an empty document', ''],
      ['a scalar', 'just text'],
      ['null', 'null'],
    ])('%s at the root', (_name, text) => {
      expect(refusal(text).message).toBe('kubeconfig must be a YAML mapping');
    });

    it('a non-string token', () => {
      expect(refusal(buildKubeconfig({ user: ['token: 12345'] })).message).toBe(
        'kubeconfig users[0].user.token must be a string',
      );
    });

    it.each([
      ['as', ['as: deployer']],
      ['as-groups', ['as-groups: [system:masters]']],
      ['as-uid', ['as-uid: "1"']],
      ['as-user-extra', ['as-user-extra:', '  scopes: [all]']],
    ])('impersonation (%s), which belongs to the target', (field, lines) => {
      const text = buildKubeconfig({
        user: [`token: ${CORPUS_TOKEN}`, ...lines],
      });
      const message = refusal(text).message;
      expect(message).toContain(`users[0].user.${field} is not allowed`);
      expect(message).toMatch(/set it on the target/);
    });

    it('a document nested far too deeply', () => {
      const text = buildKubeconfig({
        extra: [`preferences: ${'['.repeat(100)}${']'.repeat(100)}`],
      });
      expect(refusal(text).message).toMatch(/nested too deeply/);
    });

    it('input that is not text', () => {
      expect(refusal({ kind: 'Config' } as unknown as string).message).toBe(
        'kubeconfig must be text',
      );
    });
  });

  describe('never puts secrets in messages', () => {
    const secrets = [CORPUS_TOKEN, base64(CORPUS_TOKEN)];

    it.each(hostileKubeconfigs.map(h => [h.name, h] as const))(
      '%s',
      (_name, hostile) => {
        const { message } = refusal(hostile.text);
        for (const secret of secrets) {
          expect(message).not.toContain(secret);
        }
      },
    );

    it.each([
      ['a token with a space in it', [`token: "${CORPUS_TOKEN} x"`]],
      ['a password without a user name', [`password: ${CORPUS_TOKEN}`]],
      [
        'a user name with a colon',
        [`username: "a:${CORPUS_TOKEN}"`, 'password: p'],
      ],
      [
        'a client key that is not base64',
        [
          `client-certificate-data: ${base64(CA)}`,
          `client-key-data: "${CORPUS_TOKEN}!"`,
        ],
      ],
      ['a token that is a YAML tag', [`token: !${CORPUS_TOKEN} x`]],
      ['a token with a bad escape', [`token: "\\q${CORPUS_TOKEN}"`]],
      ['a token typed as a flow key', [`{token:${CORPUS_TOKEN}}`]],
    ])('%s', (_name, user) => {
      const { message } = refusal(buildKubeconfig({ user }));
      expect(message).toMatch(/users\[0\]\.user/);
      for (const secret of secrets) {
        expect(message).not.toContain(secret);
      }
    });
  });
});

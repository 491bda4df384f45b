import { ClusterCredentials } from '../cluster/ClusterConnection';

/** Replaces every known secret in a text. */
export type Redactor = (text: string) => string;

export const REDACTED = '[redacted]';

// Shorter strings would redact ordinary words; credentials are never this short.
const MIN_SECRET_LENGTH = 4;
// Single lines of a multi-line secret (a PEM key) are redacted from this length on.
const MIN_LINE_LENGTH = 8;

/**
 * A redactor for helm's output. Each secret is also redacted in the forms
 * helm and Kubernetes echo it in: JSON/Go-quoted, base64 (Secret data,
 * kubeconfig fields), and line by line when it spans several lines.
 */
export function createRedactor(secrets: Iterable<string>): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      continue;
    }
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(Buffer.from(secret, 'utf8').toString('base64'));
    for (const line of secret.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_LINE_LENGTH && !trimmed.startsWith('-----')) {
        forms.add(trimmed);
      }
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...forms]
    .filter(form => form.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  return text =>
    ordered.reduce(
      (redacted, secret) => redacted.split(secret).join(REDACTED),
      text,
    );
}

/** The secret parts of cluster credentials, in the forms a kubeconfig carries them. */
export function credentialSecrets(credentials: ClusterCredentials): string[] {
  switch (credentials.kind) {
    case 'token':
      return [credentials.token];
    case 'clientCertificate':
      // The certificate is public; the key is not.
      return [credentials.keyData];
    case 'basic':
      return [
        credentials.password,
        `${credentials.username}:${credentials.password}`,
      ];
    default:
      return [];
  }
}

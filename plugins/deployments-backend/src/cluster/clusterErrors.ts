import { ApiException } from '@kubernetes/client-node';
import { OUTBOUND_POLICY_REFUSED } from '../charts/oci/outboundPolicy';

/**
 * What went wrong talking to the API server. Only 'unauthorized',
 * 'forbidden' and 'response' mean the server answered.
 */
export type ClusterErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'cancelled'
  | 'unauthorized'
  | 'forbidden'
  | 'response';

/** An error talking to a cluster whose message is safe to show: it never contains credentials. */
export class ClusterRequestError extends Error {
  readonly kind: ClusterErrorKind;
  /** The HTTP status when the server answered. */
  readonly statusCode?: number;

  constructor(message: string, kind: ClusterErrorKind, statusCode?: number) {
    super(message);
    this.name = 'ClusterRequestError';
    this.kind = kind;
    if (statusCode !== undefined) {
      this.statusCode = statusCode;
    }
  }

  /** Whether the API server answered at all, even if only to refuse. */
  get serverAnswered(): boolean {
    return (
      this.kind === 'unauthorized' ||
      this.kind === 'forbidden' ||
      this.kind === 'response'
    );
  }
}

const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);

const NETWORK_ERRORS = new Map<string, string>([
  ['ECONNREFUSED', 'connection refused'],
  ['ENOTFOUND', 'host not found'],
  ['EAI_AGAIN', 'host name lookup failed'],
  ['ECONNRESET', 'connection reset by the server'],
  ['EPIPE', 'connection closed by the server'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['ETIMEDOUT', 'connection timed out'],
  ['ECONNABORTED', 'connection aborted'],
]);

export function apiStatusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) {
    return error.code;
  }
  // Duck-typed as well, in case two copies of the library are loaded.
  if (typeof error === 'object' && error !== null && 'headers' in error) {
    const code: unknown = (error as { code?: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

function errorFields(error: unknown): {
  code: string;
  message: string;
  name: string;
} {
  if (typeof error !== 'object' || error === null) {
    return { code: '', message: String(error), name: '' };
  }
  const { code, message, name } = error as Record<string, unknown>;
  return {
    code: typeof code === 'string' ? code : '',
    message: typeof message === 'string' ? message : '',
    name: typeof name === 'string' ? name : '',
  };
}

/** The message of a Kubernetes Status body, which names the refused action, never a credential. */
export function statusMessage(error: unknown): string | undefined {
  let body: unknown = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof body === 'object' && body !== null) {
    const message = (body as { message?: unknown }).message;
    if (typeof message === 'string' && message.length > 0) {
      return message.length > 500 ? `${message.slice(0, 500)}…` : message;
    }
  }
  return undefined;
}

export function describeNetworkError(
  error: unknown,
  server: string,
  redact: (text: string) => string,
): ClusterRequestError {
  const prefix = `cannot reach ${server}`;
  // Duck-typed: errors from Node's own realm fail instanceof checks under jest.
  const { code, message, name } = errorFields(error);

  if (code === 'ABORT_ERR' || name === 'AbortError') {
    return new ClusterRequestError(
      `${prefix}: the request was cancelled`,
      'cancelled',
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new ClusterRequestError(
      `${prefix}: TLS verification failed: the server certificate is not valid for this host name (set tlsServerName if the certificate names another)`,
      'tls',
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new ClusterRequestError(
      `${prefix}: TLS verification failed: the server certificate is ${
        code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not yet valid'
      }`,
      'tls',
    );
  }
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return new ClusterRequestError(
      `${prefix}: TLS verification failed: the server certificate is not signed by a trusted CA (${code}); check caData`,
      'tls',
    );
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_')) {
    const detail = /alert bad certificate|certificate required/i.test(message)
      ? 'the server refused the client certificate'
      : 'the server does not speak TLS as expected';
    return new ClusterRequestError(
      `${prefix}: TLS handshake failed: ${detail}`,
      'tls',
    );
  }
  if (code === OUTBOUND_POLICY_REFUSED) {
    return new ClusterRequestError(
      redact(`${prefix}: ${message}`),
      'unreachable',
    );
  }
  const network = NETWORK_ERRORS.get(code);
  if (network) {
    return new ClusterRequestError(`${prefix}: ${network}`, 'unreachable');
  }
  return new ClusterRequestError(
    redact(`${prefix}: ${code || message || 'network error'}`),
    'unreachable',
  );
}

import { InputError } from '@backstage/errors';
import { createSecureContext } from 'node:tls';
import {
  base64,
  ClientCertificateCredentials,
  ClusterCredentialStrategy,
} from './types';

/** A client certificate and its private key (mutual TLS). */
export const clientCertificateCredentials: ClusterCredentialStrategy<ClientCertificateCredentials> =
  {
    kind: 'clientCertificate',
    check({ certData, keyData }) {
      if (typeof certData !== 'string' || typeof keyData !== 'string') {
        throw new InputError(
          'credentials.certData and credentials.keyData must be PEM text',
        );
      }
      try {
        // Fails on unreadable PEM and on a key that does not belong to the certificate.
        createSecureContext({ cert: certData, key: keyData });
      } catch {
        throw new InputError(
          'credentials.certData and credentials.keyData are not a matching PEM certificate and private key',
        );
      }
    },
    // client-node and kubeconfigs take base64 of the PEM text.
    clientUser: ({ certData, keyData }) => ({
      certData: base64(certData),
      keyData: base64(keyData),
    }),
    kubeconfigUser: ({ certData, keyData }) => ({
      'client-certificate-data': base64(certData),
      'client-key-data': base64(keyData),
    }),
    // The certificate is public; the key is not.
    secrets: ({ keyData }) => [keyData],
  };

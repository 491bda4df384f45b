import { createRedactor, credentialSecrets } from './createRedactor';

describe('createRedactor', () => {
  it('redacts secrets as they are, JSON-quoted and base64-encoded', () => {
    const redact = createRedactor(['p@ss"word\\1']);
    const b64 = Buffer.from('p@ss"word\\1').toString('base64');
    expect(redact(`a p@ss"word\\1 b "p@ss\\"word\\\\1" c data: ${b64}`)).toBe(
      'a [redacted] b "[redacted]" c data: [redacted]',
    );
  });

  it('redacts each line of a multi-line secret', () => {
    const key =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
    const redact = createRedactor([key]);
    expect(redact('bad key line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC')).toBe(
      'bad key line [redacted]',
    );
    // The PEM armour is not secret and stays readable.
    expect(redact('-----BEGIN PRIVATE KEY-----')).toBe(
      '-----BEGIN PRIVATE KEY-----',
    );
  });

  it('prefers the longest match and ignores very short values', () => {
    const redact = createRedactor(['abcd', 'abcdefgh', 'ab']);
    expect(redact('abcdefgh abcd ab')).toBe('[redacted] [redacted] ab');
  });
});

describe('credentialSecrets', () => {
  it('lists the secret parts of each kind of credentials', () => {
    expect(credentialSecrets({ kind: 'token', token: 't0ken' })).toEqual([
      't0ken',
    ]);
    expect(
      credentialSecrets({
        kind: 'basic',
        username: 'admin',
        password: 'hunter22',
      }),
    ).toEqual(['hunter22', 'admin:hunter22']);
    expect(
      credentialSecrets({
        kind: 'clientCertificate',
        certData: 'CERT',
        keyData: 'KEYDATA',
      }),
    ).toEqual(['KEYDATA']);
  });

  it('catches the basic auth header form', () => {
    const redact = createRedactor(
      credentialSecrets({
        kind: 'basic',
        username: 'admin',
        password: 'hunter22',
      }),
    );
    const header = Buffer.from('admin:hunter22').toString('base64');
    expect(redact(`Authorization: Basic ${header}`)).toBe(
      'Authorization: Basic [redacted]',
    );
  });
});

import { credentialSecrets } from '../cluster/credentials';
import { createRedactor, secretForms } from './redaction';

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

describe('createRedactor, encoded and folded forms', () => {
  const secret = 'Sup3r-s3cret value';

  it('redacts hex in either case, base64url and the whole-value base64', () => {
    const redact = createRedactor([secret]);
    const bytes = Buffer.from(secret);
    for (const form of [
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      bytes.toString('base64'),
      bytes.toString('base64url'),
    ]) {
      expect(redact(`x=${form};`)).toBe('x=[redacted];');
    }
  });

  it('redacts the secret inside a longer base64 text at any offset', () => {
    const redact = createRedactor([secret]);
    for (const prefix of ['', 'u:', 'us:', 'user:']) {
      const encoded = Buffer.from(`${prefix}${secret}@db`).toString('base64');
      const redacted = redact(encoded);
      expect(redacted).toContain('[redacted]');
      // What is left is at most the characters shared with the neighbours.
      expect(redacted.replace('[redacted]', '').length).toBeLessThan(
        encoded.length - 16,
      );
    }
  });

  it('redacts a secret with spaces that YAML folded over lines', () => {
    const redact = createRedactor(['correct horse battery staple']);
    expect(redact('pass: "correct horse\n  battery \\\n  staple"')).toBe(
      'pass: "[redacted]"',
    );
    expect(redact('pass: correct\n  horse battery\n  staple\n')).toBe(
      'pass: [redacted]\n',
    );
  });

  it('replaces overlapping secrets as one, leaving no part visible', () => {
    const redact = createRedactor(['abcdefgh', 'efghijkl']);
    expect(redact('1 abcdefghijkl 2')).toBe('1 [redacted] 2');
    expect(redact('abcdefghabcdefgh')).toBe('[redacted][redacted]');
  });

  it('leaves text alone without secrets', () => {
    expect(createRedactor([])('nothing to hide')).toBe('nothing to hide');
    expect(secretForms(['abc'])).toEqual([]);
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

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { redactOperationOutput } from './redactOperationOutput';

const SECRET = 'pw-5f3a9c1e77';
const b64 = Buffer.from(SECRET).toString('base64');
const hex = Buffer.from(SECRET).toString('hex');

describe('redactOperationOutput', () => {
  it('redacts every string of a dry-run result, keys and nested values included', () => {
    const redact = redactOperationOutput([SECRET]);
    const result = {
      type: 'dry-run',
      passed: true,
      objects: [
        {
          kind: 'ConfigMap',
          manifest: stringifyYaml({
            kind: 'ConfigMap',
            metadata: { annotations: { [`note-${SECRET}`]: SECRET } },
            data: {
              plain: SECRET,
              encoded: b64,
              hex,
              url: `db://u:${SECRET}@h`,
            },
          }),
          diff: `+  plain: ${SECRET}\n+  encoded: ${b64}`,
        },
      ],
      notes: `Your password is ${SECRET} (${b64})`,
      [SECRET]: { count: 3 },
    };
    const redacted = redact.value(result);
    const text = JSON.stringify(redacted);
    for (const form of [SECRET, b64, hex]) {
      expect(text.includes(form)).toBe(false);
    }
    expect(redacted.notes).toBe('Your password is (redacted) ((redacted))');
    expect(redacted).toMatchObject({
      type: 'dry-run',
      passed: true,
      '(redacted)': { count: 3 },
    });
    expect(redacted.objects[0].diff).toBe(
      '+  plain: (redacted)\n+  encoded: (redacted)',
    );
    // The input is left as it was.
    expect(result.notes.includes(SECRET)).toBe(true);
  });

  it('keeps a redacted manifest YAML of the same shape', () => {
    const redact = redactOperationOutput([SECRET]);
    const manifest = stringifyYaml({
      metadata: { name: 'c', annotations: { a: SECRET } },
      data: { a: SECRET, b: `${SECRET}-suffix`, c: 'x', [SECRET]: 'k' },
      list: [SECRET, { b: `${SECRET}x` }],
    });
    const redacted = redact.value({ manifest }).manifest;
    expect(parseYaml(redacted)).toEqual({
      metadata: { name: 'c', annotations: { a: '(redacted)' } },
      data: {
        a: '(redacted)',
        b: '(redacted)-suffix',
        c: 'x',
        '(redacted)': 'k',
      },
      list: ['(redacted)', { b: '(redacted)x' }],
    });
  });

  it('redacts texts with the marker of helm lines', () => {
    expect(redactOperationOutput([SECRET]).text(`error near ${b64}`)).toBe(
      'error near [redacted]',
    );
  });

  it('keeps keys that redact alike apart', () => {
    const redact = redactOperationOutput([SECRET]);
    const redacted = redact.value({ [SECRET]: 1, [b64]: 2 });
    expect(redacted).toEqual({ '(redacted)': 1, '(redacted) (2)': 2 });
  });

  it('treats a "__proto__" key as data', () => {
    const redact = redactOperationOutput([SECRET]);
    const value = JSON.parse(`{"__proto__": {"x": "${SECRET}"}}`);
    const redacted = redact.value(value);
    expect(Object.getPrototypeOf(redacted)).toBe(Object.prototype);
    expect(JSON.stringify(redacted)).toBe('{"__proto__":{"x":"(redacted)"}}');
  });

  it('redacts what other objects turn into as JSON', () => {
    const redact = redactOperationOutput([SECRET]);
    class Holder {
      constructor(readonly inner: string) {}
    }
    expect(redact.value({ held: new Holder(SECRET) })).toEqual({
      held: { inner: '(redacted)' },
    });
  });

  it('returns values unchanged without secrets, and ignores very short ones', () => {
    const value = { a: 'abc', n: 1 };
    expect(redactOperationOutput(undefined).value(value)).toBe(value);
    expect(redactOperationOutput(['abc']).value(value)).toEqual(value);
    expect(redactOperationOutput([SECRET]).value(undefined)).toBeUndefined();
  });
});

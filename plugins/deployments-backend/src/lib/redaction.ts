/** Replaces every known secret in a text. */
export type Redactor = (text: string) => string;

export const REDACTED = '[redacted]';

// Shorter strings would redact ordinary words; credentials are never this short.
const MIN_SECRET_LENGTH = 4;
// Single lines of a multi-line secret (a PEM key) are redacted from this length on.
const MIN_LINE_LENGTH = 8;
// A secret's base64 inside a longer base64 text (`b64enc` of "user:secret")
// is matched by its middle part; shorter parts would match by chance.
const MIN_EMBEDDED_BASE64_LENGTH = 8;

/**
 * Every form in which a secret may be echoed: as it is, JSON/Go-quoted,
 * base64 and base64url of the whole value (what `b64enc` renders and Secret
 * data holds), the part of its base64 that is the same wherever it sits in a
 * longer encoded text, lower and upper case hex, and each line of a
 * multi-line secret (PEM armour lines excepted). Secrets shorter than four
 * characters are left out: they would redact ordinary words. Longest first.
 */
export function secretForms(secrets: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      continue;
    }
    const bytes = Buffer.from(secret, 'utf8');
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(bytes.toString('base64'));
    forms.add(bytes.toString('base64url'));
    forms.add(bytes.toString('hex'));
    forms.add(bytes.toString('hex').toUpperCase());
    for (const core of embeddedBase64(bytes)) {
      forms.add(core);
      forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
    for (const line of secret.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_LINE_LENGTH && !trimmed.startsWith('-----')) {
        forms.add(trimmed);
      }
    }
  }
  return [...forms]
    .filter(form => form.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
}

/**
 * The base64 characters that depend on the secret's bytes alone, for each
 * of the three offsets (modulo 3) it can have inside a longer encoded text.
 */
function embeddedBase64(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(
      'base64',
    );
    const core = encoded.slice(
      Math.ceil((8 * offset) / 6),
      Math.floor((8 * (offset + bytes.length)) / 6),
    );
    if (core.length >= MIN_EMBEDDED_BASE64_LENGTH) cores.push(core);
  }
  return cores;
}

/**
 * Secrets with spaces, as YAML may fold them over several lines (a long
 * string in a rendered manifest): the words in order, separated by any
 * whitespace or line-continuation backslashes.
 */
function foldedPatterns(secrets: Iterable<string>): RegExp[] {
  const patterns: RegExp[] = [];
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      continue;
    }
    const words = secret.split(/\s+/).filter(Boolean);
    if (words.length < 2) continue;
    patterns.push(
      new RegExp(
        words
          .map(word => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[\\s\\\\]+'),
        'g',
      ),
    );
  }
  return patterns;
}

/**
 * A redactor for helm's output and for everything an operation stores. Each
 * secret is redacted in every form of {@link secretForms}, and across line
 * folds when it holds spaces. Overlapping matches are replaced as one, so no
 * part of a secret stays visible next to the marker ({@link REDACTED} unless
 * another is given).
 */
export function createRedactor(
  secrets: Iterable<string>,
  options: { marker?: string } = {},
): Redactor {
  const marker = options.marker ?? REDACTED;
  const list = [...secrets];
  const forms = secretForms(list);
  const patterns = foldedPatterns(list);
  if (forms.length === 0 && patterns.length === 0) return text => text;
  return text => {
    const spans: Array<[number, number]> = [];
    for (const form of forms) {
      for (
        let at = text.indexOf(form);
        at !== -1;
        at = text.indexOf(form, at + 1)
      ) {
        spans.push([at, at + form.length]);
      }
    }
    for (const pattern of patterns) {
      pattern.lastIndex = 0;
      for (const match of text.matchAll(pattern)) {
        spans.push([match.index, match.index + match[0].length]);
      }
    }
    if (spans.length === 0) return text;
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let redacted = '';
    let done = 0;
    for (const [start, end] of spans) {
      if (end <= done) continue;
      if (start >= done) {
        redacted += text.slice(done, start) + marker;
      }
      // else it overlaps the span just replaced: extend that one.
      done = end;
    }
    return redacted + text.slice(done);
  };
}

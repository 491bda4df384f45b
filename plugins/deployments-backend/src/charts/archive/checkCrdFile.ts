import { InputError } from '@backstage/errors';
import { CST, Lexer } from 'yaml';
import { parseManifestYaml } from '../../operations/manifest/parseManifestYaml';

const CRD_API_VERSIONS = new Set([
  'apiextensions.k8s.io/v1',
  'apiextensions.k8s.io/v1beta1',
]);
const CRD_KIND = 'CustomResourceDefinition';
/** A CustomResourceDefinition's top-level fields; Go's JSON matches `apiVersion` and `kind` ignoring case, so no look-alikes. */
const CRD_FIELDS = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'spec',
  'status',
]);
/** What Kubernetes accepts as a CRD's name (`<plural>.<group>`, a DNS subdomain). */
const CRD_NAME =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Printable identifiers only: anything else is not repeated in messages. */
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;

/*
 * Helm reads these files with Go's YAML (sigs.k8s.io/yaml over yaml.v2, after
 * apimachinery's document splitter). Where that reading and ours could
 * differ, the file is refused rather than interpreted: Go takes a lone CR,
 * NEL, LS and PS as line breaks (even inside comments, where they would hide
 * a line from us) and applies merge keys in document order; other control
 * characters, a byte order mark after the start, anchors, aliases, tags and
 * directives have no place in a CRD either.
 */
const AMBIGUOUS_CHARACTERS =
  // eslint-disable-next-line no-control-regex
  /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

function describeCharacter(char: string): string {
  return `U+${char
    .codePointAt(0)!
    .toString(16)
    .toUpperCase()
    .padStart(4, '0')}`;
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Decodes strictly: Go's YAML refuses invalid UTF-8 and reads UTF-16 by its byte order mark. */
function decode(data: Buffer, where: string): string {
  try {
    // Drops one leading UTF-8 byte order mark, as Helm's loader does.
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new InputError(`${where} is not UTF-8 text`);
  }
}

function checkCharacters(text: string, where: string): void {
  const match = AMBIGUOUS_CHARACTERS.exec(text);
  if (match) {
    throw new InputError(
      `${where} contains ${describeCharacter(match[0])} at line ${lineAt(
        text,
        match.index,
      )}: control characters and line breaks other than LF and CRLF are refused, because Helm's YAML reader and this check would read the file differently`,
    );
  }
}

/**
 * Kubernetes splits documents at every line that starts with `---` (and
 * refuses one followed by anything but a comment); YAML only at `---`
 * followed by a space or the line's end. Only lines both read alike pass.
 */
function checkDocumentMarkers(text: string, where: string): void {
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (
      (line.startsWith('---') && !/^---(?:[ \t]+(?:#.*)?)?$/.test(line)) ||
      line.startsWith('...')
    ) {
      throw new InputError(
        `${where} has a document marker at line ${
          index + 1
        } that YAML readers split differently: only a bare "---" is accepted`,
      );
    }
  }
}

/** Refuses anchors, aliases, tags, directives and merge keys, from the tokens (comments and strings cannot fake them). */
function checkTokens(text: string, where: string): void {
  let scalarSourceNext = false;
  let line = 1;
  const refuse = (what: string) => {
    throw new InputError(
      `${where} uses ${what} at line ${line}: anchors, aliases, merge keys (<<), tags and directives are refused in crds/ files, because Helm's YAML reader applies them differently`,
    );
  };
  for (const token of new Lexer().lex(text)) {
    if (scalarSourceNext) {
      // A plain or block scalar's source follows the scalar marker.
      scalarSourceNext = false;
      if (token === '<<') refuse('a YAML merge key');
    } else if (token === CST.SCALAR) {
      scalarSourceNext = true;
    } else {
      switch (CST.tokenType(token)) {
        case 'anchor':
          refuse('a YAML anchor');
          break;
        case 'alias':
          refuse('a YAML alias');
          break;
        case 'tag':
          refuse('a YAML tag');
          break;
        case 'directive-line':
          refuse('a YAML directive');
          break;
        case 'single-quoted-scalar':
        case 'double-quoted-scalar':
          if (token.slice(1, -1) === '<<') refuse('a YAML merge key');
          break;
        default:
          break;
      }
    }
    for (const char of token) if (char === '\n') line++;
  }
}

/** Refuses `<<` keys anywhere, however they were written. */
function checkNoMergeKeys(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    for (const item of value) checkNoMergeKeys(item, where);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '<<') {
        throw new InputError(
          `${where} uses a YAML merge key (<<): refused in crds/ files`,
        );
      }
      checkNoMergeKeys(item, where);
    }
  }
}

function describeObject(object: Record<string, unknown>): string {
  const { kind, apiVersion } = object;
  if (typeof kind !== 'string' || !PLAIN.test(kind)) {
    return 'an object without a plain kind';
  }
  return typeof apiVersion === 'string' && PLAIN.test(apiVersion)
    ? `a ${kind} (${apiVersion})`
    : `a ${kind} without a plain apiVersion`;
}

/**
 * Checks one file of a chart's `crds/` folder, which Helm would create
 * verbatim, whatever it holds, on a release's first install: every document
 * must be an `apiextensions.k8s.io` CustomResourceDefinition. Messages name
 * the file, the line or document and the kind, never the content.
 *
 * @param file - the file's path in the chart, for messages
 * @returns the names of the CRDs it defines
 * @throws InputError when the file holds anything else or cannot be read unambiguously
 */
export function checkCrdFile(file: string, data: Buffer): string[] {
  const where = `the chart file ${JSON.stringify(file)}`;
  const text = decode(data, where);
  checkCharacters(text, where);
  checkDocumentMarkers(text, where);
  checkTokens(text, where);
  const documents = parseManifestYaml(text, { source: file });
  const names: string[] = [];
  for (const [index, { object }] of documents.entries()) {
    const document = `document ${index + 1} of ${where}`;
    if (
      object.kind !== CRD_KIND ||
      typeof object.apiVersion !== 'string' ||
      !CRD_API_VERSIONS.has(object.apiVersion)
    ) {
      throw new InputError(
        `${document} is ${describeObject(
          object,
        )}, not a CustomResourceDefinition: Helm would create it as it is on the first install, so charts may ship only apiextensions.k8s.io CustomResourceDefinitions in crds/ folders`,
      );
    }
    if (Object.keys(object).some(key => !CRD_FIELDS.has(key))) {
      throw new InputError(
        `${document} has a top-level field other than ${[...CRD_FIELDS].join(
          ', ',
        )}`,
      );
    }
    checkNoMergeKeys(object, document);
    const metadata = object.metadata;
    const name =
      typeof metadata === 'object' && metadata !== null
        ? (metadata as Record<string, unknown>).name
        : undefined;
    if (typeof name !== 'string' || name.length > 253 || !CRD_NAME.test(name)) {
      throw new InputError(
        `${document} is a CustomResourceDefinition without a valid metadata.name`,
      );
    }
    names.push(name);
  }
  return names;
}

import { InputError } from '@backstage/errors';
import {
  Composer,
  isAlias,
  isNode,
  isScalar,
  LineCounter,
  Parser,
  Tags,
  visit,
} from 'yaml';

/** Bounds on what a rendered release may be; past them the release is refused, not truncated. */
export const MANIFEST_LIMITS = {
  /** Rendered manifest plus hooks, in bytes. */
  maxBytes: 8 * 1024 * 1024,
  /** Non-empty documents, manifest and hooks together. */
  maxObjects: 1000,
  /** Documents, empty ones included: millions of empty documents fit in the size cap and cost seconds of CPU. */
  maxDocuments: 10_000,
  /** Alias expansions per document: enough for real charts, too few for a "billion laughs". */
  maxAliases: 100,
};

/** One non-empty document of a manifest, with the template it came from. */
export interface ManifestDocument {
  /** From helm's '# Source:' comment; documents after the first in a template keep its source. */
  source: string;
  object: Record<string, unknown>;
}

const YAML_TAG = 'tag:yaml.org,2002:';
// YAML 1.1 like the API server's parser (so 'on' and 0644 mean what Kubernetes reads),
// without the tags that yield non-JSON values or that Go's YAML does not resolve.
// 'merge' too: without its tag a '<<' stays a plain key, which checkValue refuses
// (the `merge: false` option alone does not stop YAML 1.1 from applying it).
const REFUSED_TAGS = new Set([
  'binary',
  'merge',
  'omap',
  'pairs',
  'set',
  'timestamp',
]);
/**
 * Plain scalars Go reads as numbers (strconv.ParseInt with base 0 accepts
 * 0o, 0O, 0X and 0B prefixes) that YAML 1.1 here reads as strings.
 */
const GO_ONLY_NUMBER = /^[-+]?0[oObBxX]/;

function jsonTags(tags: Tags): Tags {
  return tags.filter(tag => {
    const { tag: name, format } = tag as { tag: string; format?: string };
    return (
      !REFUSED_TAGS.has(name.slice(YAML_TAG.length)) &&
      // Sexagesimal numbers such as 1:20.
      format !== 'TIME'
    );
  });
}

/*
 * Helm and the API server read manifests with Go's YAML (yaml.v2 through
 * sigs.k8s.io/yaml; helm 4's post-renderer step with yaml.v3). Where that
 * reading and this one could differ, the manifest is refused rather than
 * interpreted: Go takes a lone CR, NEL, LS and PS as line breaks (even inside
 * a comment, where they would hide a line from us); it applies merge keys in
 * document order, so `<<` after a key overrides it; anchors, aliases and
 * explicit tags only serve such tricks in rendered output.
 */
const AMBIGUOUS_CHARACTERS =
  // eslint-disable-next-line no-control-regex
  /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\ufeff]/u;
const MERGE_KEY = '<<';
const MERGE_TAG = `${YAML_TAG}merge`;

function describeCharacter(char: string): string {
  return `U+${char
    .codePointAt(0)!
    .toString(16)
    .toUpperCase()
    .padStart(4, '0')}`;
}

/** Refuses the characters Go's YAML reads differently, naming the line (never the content). */
function checkCharacters(text: string, source: string): void {
  // A byte order mark is allowed only where every reader skips it: first.
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const match = AMBIGUOUS_CHARACTERS.exec(body);
  if (match) {
    const line = body.slice(0, match.index).split('\n').length;
    throw new InputError(
      `the manifest from ${source} contains ${describeCharacter(
        match[0],
      )} at line ${line}: control characters and line breaks other than LF and CRLF are refused, because Kubernetes' YAML reader and this check would read the text differently`,
    );
  }
}

/** Refuses keys and strings that escape sequences made ambiguous, and merge keys. */
function checkValue(value: unknown, where: string): void {
  if (typeof value === 'string') {
    const match = AMBIGUOUS_CHARACTERS.exec(value);
    if (match) {
      throw new InputError(
        `${where} has a string with ${describeCharacter(
          match[0],
        )}: control characters and line breaks other than LF and CRLF are refused in manifests`,
      );
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach(item => checkValue(item, where));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === MERGE_KEY) {
        throw new InputError(
          `${where} uses a YAML merge key (<<): refused, because Go's YAML applies merge keys differently`,
        );
      }
      checkValue(key, where);
      checkValue(item, where);
    }
  }
}

const SOURCE_COMMENTS = /^[ \t]*#[ \t]*Source:[ \t]*(\S.*?)[ \t]*$/gm;

/** The last '# Source:' comment in text between two documents' contents. */
function lastSourceComment(between: string): string | undefined {
  let source: string | undefined;
  for (const match of between.matchAll(SOURCE_COMMENTS)) {
    source = match[1];
  }
  return source;
}

/**
 * Parses a multi-document manifest as data: no custom tags, bounded aliases,
 * no duplicate keys. Empty documents are skipped. Messages name the source
 * and line, never the content, which may hold secrets.
 *
 * @param counter - shared across calls so that one cap covers manifest and hooks
 * @throws InputError when the text is not valid YAML, a document is not a mapping, or a cap is exceeded
 */
export function parseManifestYaml(
  text: string,
  options: { source: string; counter?: { objects: number; documents: number } },
): ManifestDocument[] {
  const counter = options.counter ?? { objects: 0, documents: 0 };
  let source = options.source;
  const documents: ManifestDocument[] = [];
  checkCharacters(text, options.source);
  const composer = new Composer({
    version: '1.1',
    // Merge keys stay plain '<<' keys, which checkValue refuses.
    merge: false,
    customTags: jsonTags,
    uniqueKeys: true,
    strict: true,
  });
  const lines = new LineCounter();
  let index = 0;
  // Where the text after the last document with content starts: its comments name the next source.
  let searchFrom = 0;
  try {
    // Documents are composed one at a time, so a cap stops the work early.
    for (const document of composer.compose(
      new Parser(lines.addNewLine).parse(text),
    )) {
      index++;
      if (++counter.documents > MANIFEST_LIMITS.maxDocuments) {
        throw new InputError(
          `the rendered release has more than ${MANIFEST_LIMITS.maxDocuments} YAML documents (document count cap)`,
        );
      }
      const contentStart = document.contents?.range?.[0] ?? document.range[0];
      source =
        lastSourceComment(text.slice(searchFrom, contentStart)) ?? source;
      // Warnings include unresolved tags such as !!binary or !!js/function: refuse them too.
      const problem = document.errors[0] ?? document.warnings[0];
      if (problem) {
        if (text.startsWith('!!merge', problem.pos[0])) {
          // How Go's yaml.v3 (helm 4's post-render step) writes a merge key back out.
          throw new InputError(
            `the manifest from ${source} uses a YAML merge key (<<): refused, because Go's YAML applies merge keys differently`,
          );
        }
        // Position only: the parser's own message may quote the content.
        const where = lines.linePos(problem.pos[0]);
        throw new InputError(
          `the manifest from ${source} is not valid YAML: ${problem.code}${
            where ? ` at line ${where.line}, column ${where.col}` : ''
          }`,
        );
      }
      if (document.contents === null) {
        continue;
      }
      const documentSource = source;
      visit(document, (_key, node) => {
        if (isAlias(node)) {
          throw new InputError(
            `the manifest from ${documentSource} uses a YAML alias: anchors and aliases are refused in manifests`,
          );
        }
        if (
          isScalar(node) &&
          node.type === 'PLAIN' &&
          typeof node.value === 'string' &&
          GO_ONLY_NUMBER.test(node.value)
        ) {
          throw new InputError(
            `the manifest from ${documentSource} has the plain value ${JSON.stringify(
              node.value.slice(0, 20),
            )}, which Go's YAML reads as a number and this check as text; quote it`,
          );
        }
        if (isNode(node) && node.tag === MERGE_TAG) {
          // How Go's yaml.v3 (helm 4's post-render step) writes a merge key back out.
          throw new InputError(
            `the manifest from ${documentSource} uses a YAML merge key (<<): refused, because Go's YAML applies merge keys differently`,
          );
        }
        if (isNode(node) && (node.anchor || node.tag)) {
          throw new InputError(
            `the manifest from ${documentSource} uses a YAML ${
              node.anchor ? 'anchor' : `tag (${node.tag})`
            }: anchors and explicit tags are refused in manifests`,
          );
        }
      });
      const value: unknown = document.toJS({
        maxAliasCount: MANIFEST_LIMITS.maxAliases,
      });
      if (value === null || value === undefined) {
        continue;
      }
      searchFrom = document.range[2];
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new InputError(
          `document ${index} from ${source} is not a Kubernetes object (not a mapping)`,
        );
      }
      checkValue(value, `document ${index} from ${source}`);
      if (++counter.objects > MANIFEST_LIMITS.maxObjects) {
        throw new InputError(
          `the rendered release has more than ${MANIFEST_LIMITS.maxObjects} objects (object count cap)`,
        );
      }
      documents.push({ source, object: value as Record<string, unknown> });
    }
  } catch (error) {
    if (error instanceof InputError) {
      throw error;
    }
    // Excessive aliases, or nesting deep enough to exhaust the stack.
    throw new InputError(
      `the manifest from ${source} is refused: ${
        (error as Error).message.split('\n')[0]
      }`,
    );
  }
  return documents;
}

/** Refuses text over the size cap before any parsing. */
export function checkManifestSize(bytes: number): void {
  if (bytes > MANIFEST_LIMITS.maxBytes) {
    throw new InputError(
      `the rendered release is larger than ${
        MANIFEST_LIMITS.maxBytes / 1024 / 1024
      } MiB (rendered size cap)`,
    );
  }
}

import { InputError } from '@backstage/errors';
import { parse as parseYaml } from 'yaml';

/** One chart version as a repository's `index.yaml` lists it. */
export interface RepositoryIndexEntry {
  name?: string;
  version: string;
  /** The archive's sha256 in hex, when the index gives one. */
  digest?: string;
  urls: string[];
}

/** Limits on what is parsed of an index; its size is capped when it is fetched. */
export interface RepositoryIndexLimits {
  /** Most YAML handed to the parser: one chart's section, or a whole index in another layout. */
  maxParseBytes: number;
  /** Most versions listed for one chart. */
  maxVersions: number;
}

export const DEFAULT_REPOSITORY_INDEX_LIMITS: RepositoryIndexLimits = {
  maxParseBytes: 2 * 1024 * 1024,
  maxVersions: 10_000,
};

// Helm never writes anchors; a few are tolerated, expansion is bounded.
const MAX_ALIAS_COUNT = 50;
const HEX_DIGEST = /^(?:sha256:)?([a-fA-F0-9]{64})$/;

/**
 * The entries an index lists for one chart, or undefined when it lists none.
 *
 * The `yaml` package parses about 2 MiB a second and blocks while it does,
 * and indexes of public repositories run to many MiB. So an index laid out the
 * way Helm writes it has only the requested chart's section parsed; JSON
 * indexes are parsed whole (fast); any other layout is parsed whole only up
 * to `maxParseBytes`. Scalars stay strings (the failsafe schema, as Helm reads
 * versions) and duplicate keys are not checked, which is quadratic in `yaml`.
 */
export function readRepositoryIndex(
  raw: Buffer,
  chart: string,
  limits: RepositoryIndexLimits = DEFAULT_REPOSITORY_INDEX_LIMITS,
): RepositoryIndexEntry[] | undefined {
  const text = raw.toString('utf8').replace(/^\uFEFF/, '');
  let index: unknown;
  if (/^\s*\{/.test(text)) {
    try {
      index = JSON.parse(text);
    } catch {
      // Flow-style YAML also starts with '{'; read below like any other layout.
    }
  }
  if (index === undefined) {
    const section = findChartSection(text, chart);
    if (section === 'absent') {
      return undefined;
    }
    const yamlText = section === undefined ? text : `entries:\n${section}`;
    const bytes = Buffer.byteLength(yamlText);
    if (bytes > limits.maxParseBytes) {
      throw new InputError(
        section === undefined
          ? `The index is ${bytes} bytes in a layout other than Helm's; at most ${limits.maxParseBytes} bytes of it are parsed`
          : `The index's section for ${chart} is ${bytes} bytes; at most ${limits.maxParseBytes} bytes are parsed`,
      );
    }
    index = parseIndexYaml(yamlText);
  }

  const entries = (index as { entries?: unknown } | null)?.entries;
  if (!entries || typeof entries !== 'object' || Array.isArray(entries)) {
    // An empty index has `entries: {}` (or a bare `entries:`).
    if (entries === '' || entries === null) {
      return undefined;
    }
    throw new InputError('The repository index has no "entries" map');
  }
  if (!Object.hasOwn(entries, chart)) {
    return undefined;
  }
  const versions = (entries as Record<string, unknown>)[chart];
  if (!Array.isArray(versions)) {
    throw new InputError(
      `The repository index lists ${chart} as something other than a list of versions`,
    );
  }
  if (versions.length > limits.maxVersions) {
    throw new InputError(
      `The repository index lists more than ${limits.maxVersions} versions of ${chart}`,
    );
  }
  // Like Helm, entries that are not usable are skipped rather than fatal.
  return versions.flatMap(toEntry);
}

function parseIndexYaml(text: string): unknown {
  try {
    return parseYaml(text, {
      schema: 'failsafe',
      uniqueKeys: false,
      maxAliasCount: MAX_ALIAS_COUNT,
      prettyErrors: false,
    });
  } catch (error) {
    const detail = String((error as Error)?.message ?? '').split('\n')[0];
    throw new InputError(
      `The repository index is not valid YAML: ${detail.slice(0, 200)}`,
    );
  }
}

function toEntry(value: unknown): RepositoryIndexEntry[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return [];
  }
  const item = value as Record<string, unknown>;
  if (typeof item.version !== 'string' || !item.version) {
    return [];
  }
  const urls = Array.isArray(item.urls)
    ? item.urls.filter((u): u is string => typeof u === 'string' && u !== '')
    : [];
  const entry: RepositoryIndexEntry = { version: item.version, urls };
  if (typeof item.name === 'string' && item.name) {
    entry.name = item.name;
  }
  if (typeof item.digest === 'string' && item.digest) {
    const hex = HEX_DIGEST.exec(item.digest)?.[1];
    // A digest we cannot read is kept as given, so the download refuses it.
    entry.digest = hex ? hex.toLowerCase() : item.digest;
  }
  return [entry];
}

/**
 * Finds one chart's section of an index in Helm's block layout: `entries:`
 * alone on a line at column 0, chart names one indentation deeper, each
 * followed by its version list. Answers the section's lines, 'absent' when the
 * layout is Helm's and the chart is not in it, or undefined for any other
 * layout (flow style, explicit or tagged keys, several documents, ...).
 *
 * In YAML every line of a value is indented deeper than its key, so a line at
 * the chart names' indentation is always a chart name or, in Helm's compact
 * style, an item of the list that belongs to the name above it.
 */
export function findChartSection(
  text: string,
  chart: string,
): string | 'absent' | undefined {
  if (/^(?:---|\.\.\.|%)/m.test(text.slice(1))) {
    return undefined;
  }
  const entriesLine = /^entries:[ \t]*(?:#.*)?\r?$/gm;
  const first = entriesLine.exec(text);
  if (!first || entriesLine.exec(text)) {
    return undefined;
  }
  let start: number | undefined;
  let end: number | undefined;
  let indent: number | undefined;
  let lineStart = first.index + first[0].length + 1;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) {
      lineEnd = text.length;
    }
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
    const content = line.trimStart();
    const depth = line.length - content.length;
    if (content === '' || content.startsWith('#')) {
      // blank lines and comments belong to no structure
    } else if (indent !== undefined && depth > indent) {
      // inside the value of the chart name above
    } else if (line.slice(0, depth).includes('\t')) {
      return undefined; // tabs never indent YAML
    } else if (depth === 0) {
      if (/^-(?:[ \t]|$)/.test(content)) {
        return undefined; // `entries` is a list here, not a map
      }
      break; // the next top-level key: the end of `entries`
    } else if (indent !== undefined && depth < indent) {
      return undefined;
    } else if (/^-(?:[ \t]|$)/.test(content)) {
      if (indent === undefined) {
        return undefined; // `entries` is a list here, not a map
      }
    } else {
      const key = parseKey(content);
      if (key === undefined) {
        return undefined;
      }
      indent = depth;
      if (start !== undefined && end === undefined) {
        end = lineStart;
      }
      if (key === chart) {
        if (start !== undefined) {
          return undefined; // listed twice: leave it to the parser
        }
        start = lineStart;
      }
    }
    lineStart = lineEnd + 1;
  }
  if (start === undefined) {
    return 'absent';
  }
  return text.slice(start, end ?? Math.min(lineStart, text.length));
}

/** The key of a `key:` line with nothing after the colon, or undefined. */
function parseKey(content: string): string | undefined {
  const match =
    /^(?:([^\s'"#{}[\],&*!|>%@`?:-][^#]*?|-[^\s#][^#]*?)|"([^"\\]*)"|'([^']*)')[ \t]*:[ \t]*(?:#.*)?$/.exec(
      content,
    );
  if (!match) {
    return undefined;
  }
  return match[1] ?? match[2] ?? match[3];
}

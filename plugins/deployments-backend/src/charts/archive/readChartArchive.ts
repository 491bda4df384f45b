import { InputError } from '@backstage/errors';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { checkValuesSchema } from '../schema/checkValuesSchema';
import { checkCrdFile } from './checkCrdFile';

const gunzipAsync = promisify(gunzip);

/** Limits a chart archive must stay within; every one is checked before use. */
export interface ChartArchiveLimits {
  maxCompressedBytes: number;
  maxUncompressedBytes: number;
  maxEntries: number;
  /** Chart.yaml, values.yaml, values.schema.json and README.md each. */
  maxMetadataFileBytes: number;
}

export const DEFAULT_CHART_ARCHIVE_LIMITS: ChartArchiveLimits = {
  maxCompressedBytes: 10 * 1024 * 1024,
  maxUncompressedBytes: 50 * 1024 * 1024,
  maxEntries: 5000,
  maxMetadataFileBytes: 1024 * 1024,
};

/** What a chart's `Chart.yaml` says that the catalog shows. */
export interface ChartMetadata {
  apiVersion: string;
  name: string;
  version: string;
  appVersion?: string;
  description?: string;
  kubeVersion?: string;
  icon?: string;
  type?: string;
  dependencies: Array<{ name: string; version?: string; repository?: string }>;
  /**
   * Not from Chart.yaml: the files under the `crds/` folders of the chart and
   * its subcharts, each checked to hold only CustomResourceDefinitions. The
   * portal never installs them (helm runs with `--skip-crds`). Empty when the
   * chart ships none; absent on charts registered before this was recorded.
   */
  crds?: ChartCrdFile[];
}

/** A file Helm would install from a `crds/` folder, and what it defines. */
export interface ChartCrdFile {
  /**
   * Its path in the chart: `crds/x.yaml`, `charts/sub/crds/x.yaml`, or inside
   * a subchart archive `charts/sub-1.0.0.tgz/crds/x.yaml`.
   */
  file: string;
  /** `metadata.name` of each CustomResourceDefinition in it. */
  names: string[];
}

export interface ChartArchiveContents {
  metadata: ChartMetadata;
  valuesYaml?: string;
  valuesSchema?: Record<string, unknown>;
  readme?: string;
  entryCount: number;
  uncompressedBytes: number;
}

const BLOCK = 512;
/** How deep subchart archives (`charts/*.tgz`) may nest inside each other. */
const MAX_SUBCHART_ARCHIVE_DEPTH = 5;
/** CustomResourceDefinitions across all `crds/` folders of a chart. */
const MAX_CRDS = 1000;
/** Bytes of all `crds/` files together (Helm never renders them, so the manifest cap is the reference). */
const MAX_CRD_BYTES = 8 * 1024 * 1024;

/** One file of an archive, its path relative to the chart's directory. */
interface ArchiveFile {
  path: string;
  data: Buffer;
}

/** What is left of the limits, shared by an archive and the subchart archives inside it. */
interface ArchiveBudget {
  entries: number;
  uncompressedBytes: number;
}

/**
 * Reads a Helm chart archive (.tgz) without writing anything to disk, and
 * refuses what a chart never needs: links, devices, absolute paths, `..`,
 * entries outside the chart's directory, and anything over the limits.
 *
 * Every file Helm would create verbatim on a first install — the `crds/`
 * folder of the chart and of each subchart, subchart archives under
 * `charts/` included — must hold only CustomResourceDefinitions; they are
 * recorded in `metadata.crds`.
 */
export async function readChartArchive(
  archive: Buffer,
  limits: ChartArchiveLimits = DEFAULT_CHART_ARCHIVE_LIMITS,
): Promise<ChartArchiveContents> {
  const budget: ArchiveBudget = {
    entries: limits.maxEntries,
    uncompressedBytes: limits.maxUncompressedBytes,
  };
  const { root, files, entryCount, uncompressedBytes } = await readArchiveFiles(
    archive,
    limits,
    budget,
    'chart archive',
  );
  const byPath = new Map(files.map(file => [file.path, file.data]));
  const read = (file: string) => {
    const data = byPath.get(file);
    if (data && data.length > limits.maxMetadataFileBytes) {
      throw new InputError(
        `${file} is larger than ${limits.maxMetadataFileBytes} bytes`,
      );
    }
    return data?.toString('utf8');
  };

  const chartYaml = read('Chart.yaml');
  if (!chartYaml) {
    throw new InputError(`chart archive has no ${root}/Chart.yaml`);
  }
  const metadata = parseChartYaml(chartYaml);
  const schemaText = read('values.schema.json');
  let valuesSchema: Record<string, unknown> | undefined;
  if (schemaText) {
    try {
      valuesSchema = JSON.parse(schemaText);
    } catch {
      throw new InputError('values.schema.json is not valid JSON');
    }
    if (
      !valuesSchema ||
      typeof valuesSchema !== 'object' ||
      Array.isArray(valuesSchema)
    ) {
      throw new InputError('values.schema.json must be a JSON object');
    }
    checkValuesSchema(valuesSchema);
  }
  const crds = await readCrds(files, limits, budget);
  return {
    metadata: { ...metadata, crds },
    valuesYaml: read('values.yaml'),
    valuesSchema,
    readme: read('README.md'),
    entryCount,
    uncompressedBytes,
  };
}

/**
 * Finds every file Helm's `CRDObjects()` installs — `crds/**` with a .yaml,
 * .yml or .json extension, in the chart and, recursively, in each subchart
 * Helm's loader loads (directories and `.tgz` archives directly under
 * `charts/`, except names starting with `_` or `.`) — and checks each.
 */
async function readCrds(
  files: ArchiveFile[],
  limits: ChartArchiveLimits,
  budget: ArchiveBudget,
): Promise<ChartCrdFile[]> {
  const found: ChartCrdFile[] = [];
  const total = { crds: 0, bytes: 0 };

  async function walk(
    chartFiles: ArchiveFile[],
    where: string,
    depth: number,
  ): Promise<void> {
    const subcharts = new Map<string, ArchiveFile[]>();
    for (const file of chartFiles) {
      if (file.path.startsWith('crds/') && hasManifestExtension(file.path)) {
        const name = `${where}${file.path}`;
        total.bytes += file.data.length;
        if (total.bytes > MAX_CRD_BYTES) {
          throw new InputError(
            `the chart's crds/ files are larger than ${
              MAX_CRD_BYTES / 1024 / 1024
            } MiB together`,
          );
        }
        const names = checkCrdFile(name, file.data);
        total.crds += names.length;
        if (total.crds > MAX_CRDS) {
          throw new InputError(
            `the chart's crds/ files define more than ${MAX_CRDS} CustomResourceDefinitions`,
          );
        }
        found.push({ file: name, names });
      } else if (
        file.path.startsWith('charts/') &&
        !file.path.endsWith('.prov')
      ) {
        const [sub] = file.path.slice('charts/'.length).split('/');
        const group = subcharts.get(sub) ?? [];
        group.push(file);
        subcharts.set(sub, group);
      }
    }
    for (const [sub, subFiles] of subcharts) {
      if (sub.startsWith('_') || sub.startsWith('.')) {
        continue; // Helm's loader skips these
      }
      const prefix = `charts/${sub}`;
      if (/\.tgz$/i.test(sub)) {
        // Helm loads only the archive itself, not files below its name.
        const nested = subFiles.find(f => f.path === prefix);
        if (!nested) continue;
        if (depth >= MAX_SUBCHART_ARCHIVE_DEPTH) {
          throw new InputError(
            `${where}${prefix} nests subchart archives more than ${MAX_SUBCHART_ARCHIVE_DEPTH} deep`,
          );
        }
        const { files: inner } = await readArchiveFiles(
          nested.data,
          limits,
          budget,
          `subchart archive "${where}${prefix}"`,
        );
        await walk(inner, `${where}${prefix}/`, depth + 1);
      } else {
        await walk(
          subFiles
            .filter(f => f.path.startsWith(`${prefix}/`))
            .map(f => ({ ...f, path: f.path.slice(prefix.length + 1) })),
          `${where}${prefix}/`,
          depth,
        );
      }
    }
  }

  await walk(files, '', 0);
  return found;
}

/** Helm's `hasManifestExtension`: .yaml, .yml or .json, in any case. */
function hasManifestExtension(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return (
    dot >= 0 &&
    ['.yaml', '.yml', '.json'].includes(base.slice(dot).toLowerCase())
  );
}

/**
 * Inflates an archive within the budget and returns its files, paths
 * relative to its single top directory. The tar is read the way Go's
 * `archive/tar` (Helm's reader) reads it wherever the two could disagree on
 * which files there are; what they might read differently is refused.
 */
async function readArchiveFiles(
  archive: Buffer,
  limits: ChartArchiveLimits,
  budget: ArchiveBudget,
  what: string,
): Promise<{
  root: string;
  files: ArchiveFile[];
  entryCount: number;
  uncompressedBytes: number;
}> {
  if (archive.length > limits.maxCompressedBytes) {
    throw new InputError(
      `${what} is ${archive.length} bytes; the limit is ${limits.maxCompressedBytes}`,
    );
  }
  let tar: Buffer;
  try {
    // maxOutputLength stops a gzip bomb while inflating, not afterwards.
    tar = await gunzipAsync(archive, {
      maxOutputLength: Math.max(budget.uncompressedBytes, 1),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError(
        `${what} expands beyond ${limits.maxUncompressedBytes} bytes`,
      );
    }
    throw new InputError(`${what} is not valid gzip`);
  }
  budget.uncompressedBytes -= tar.length;
  if (budget.uncompressedBytes < 0) {
    throw new InputError(
      `${what} expands beyond ${limits.maxUncompressedBytes} bytes`,
    );
  }

  const files: ArchiveFile[] = [];
  const seen = new Set<string>();
  let entryCount = 0;
  let root: string | undefined;
  let longName: string | undefined;
  let paxPath: string | undefined;

  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every(b => b === 0)) {
      break; // end of archive
    }
    if (!checksumMatches(header)) {
      throw new InputError(
        `${what} has a corrupt tar header at byte ${offset}`,
      );
    }
    const type = String.fromCharCode(header[156] || 0x30);
    const size = parseOctal(header.subarray(124, 136), what);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) {
      throw new InputError(`${what} is truncated`);
    }
    const data = tar.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'L') {
      longName = cString(data);
      continue;
    }
    if (type === 'x') {
      // Each extended header replaces the one before, as in Go.
      paxPath = parsePaxPath(data, what);
      continue;
    }
    if (type === 'g') {
      // A global PAX header: Go returns it as an entry of its own (which
      // Helm skips), so pending long names and extended headers lapse.
      paxPath = undefined;
      longName = undefined;
      continue;
    }

    entryCount++;
    if (--budget.entries < 0) {
      throw new InputError(
        `${what} has more than ${limits.maxEntries} entries`,
      );
    }
    // Go applies the PAX path first and the GNU long name over it.
    const name = longName ?? paxPath ?? headerName(header, what);
    paxPath = undefined;
    longName = undefined;
    if (size !== 0 && (type === '5' || name.endsWith('/'))) {
      // Go gives directories (and old-style entries named like one) no
      // data, whatever the size field says: the entries after would differ.
      throw new InputError(`${what} has a directory entry with data`);
    }
    const path = checkPath(name, what);

    if (type === '1' || type === '2') {
      throw new InputError(
        `${what} entry "${path}" is a link; links are refused`,
      );
    }
    if (type !== '0' && type !== '5') {
      throw new InputError(
        `${what} entry "${path}" has unsupported type "${type}"`,
      );
    }
    const slash = path.indexOf('/');
    const top = slash === -1 ? path : path.slice(0, slash);
    root ??= top;
    if (top !== root) {
      throw new InputError(`${what} has entries outside "${root}/": "${path}"`);
    }
    if (type !== '5' && slash !== -1) {
      // Helm drops the top directory; two entries for one file would be
      // read differently by different readers.
      const relative = path.slice(slash + 1);
      if (seen.has(relative)) {
        throw new InputError(`${what} has the entry "${path}" twice`);
      }
      seen.add(relative);
      files.push({ path: relative, data });
    } else if (type !== '5') {
      throw new InputError(
        `${what} has a file outside the chart's directory: "${path}"`,
      );
    }
  }

  if (!root) {
    throw new InputError(`${what} is empty`);
  }
  return { root, files, entryCount, uncompressedBytes: tar.length };
}

/**
 * The entry's name as Go reads it: the prefix field counts only in POSIX
 * (ustar) and star headers; a GNU header with anything there is refused,
 * since Go may or may not read it as a prefix.
 */
function headerName(header: Buffer, what: string): string {
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 263).toString('latin1');
  const version = header.subarray(263, 265).toString('latin1');
  let prefix = '';
  if (magic === 'ustar\0') {
    const star = header.subarray(508, 512).toString('latin1') === 'tar\0';
    prefix = cString(header.subarray(345, star ? 476 : 500));
  } else if (magic === 'ustar ' && version === ' \0') {
    if (!header.subarray(345, 500).every(b => b === 0)) {
      throw new InputError(
        `${what} has a GNU tar header with data in its prefix field`,
      );
    }
  }
  return prefix ? `${prefix}/${name}` : name;
}

function parseChartYaml(text: string): ChartMetadata {
  let doc: unknown;
  try {
    // No duplicate-key check: `yaml` does it in quadratic time (a 1 MiB
    // Chart.yaml of short keys would block for a minute), and Helm's own
    // reader lets the last of duplicate keys win, as toJS does.
    doc = parseYaml(text, {
      uniqueKeys: false,
      maxAliasCount: 10,
      customTags: [],
    });
  } catch {
    throw new InputError('Chart.yaml is not valid YAML');
  }
  const chart = doc as Record<string, unknown> | undefined;
  const str = (key: string) =>
    typeof chart?.[key] === 'string' ? (chart[key] as string) : undefined;
  const name = str('name');
  const version = str('version');
  if (!chart || !name || !version) {
    throw new InputError('Chart.yaml must name the chart and its version');
  }
  const dependencies = Array.isArray(chart.dependencies)
    ? (chart.dependencies as Array<Record<string, unknown>>).map(d => ({
        name: String(d?.name ?? ''),
        version: typeof d?.version === 'string' ? d.version : undefined,
        repository:
          typeof d?.repository === 'string' ? d.repository : undefined,
      }))
    : [];
  return {
    apiVersion: str('apiVersion') ?? 'v1',
    name,
    version,
    appVersion:
      chart.appVersion === undefined ? undefined : String(chart.appVersion),
    description: str('description'),
    kubeVersion: str('kubeVersion'),
    icon: str('icon'),
    type: str('type'),
    dependencies,
  };
}

function checkPath(name: string, what: string): string {
  const path = name.replace(/\/+$/, '');
  if (
    !path ||
    path.startsWith('/') ||
    /^[A-Za-z]:/.test(path) ||
    path.includes('\\')
  ) {
    throw new InputError(
      `${what} entry "${name}" has an absolute or invalid path`,
    );
  }
  if (path.split('/').some(part => part === '..' || part === '')) {
    throw new InputError(`${what} entry "${name}" escapes the chart directory`);
  }
  if (path.split('/').some(part => part === '.')) {
    // Helm cleans `a/./b` to `a/b`; refused rather than normalised.
    throw new InputError(`${what} entry "${name}" has an invalid path`);
  }
  return path;
}

function parseOctal(field: Buffer, what: string): number {
  const text = cString(field).trim();
  if (!/^[0-7]*$/.test(text)) {
    throw new InputError(`${what} has a tar header with an invalid size`);
  }
  return text ? parseInt(text, 8) : 0;
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    sum += i >= 148 && i < 156 ? 0x20 : header[i];
  }
  return sum === parseInt(cString(header.subarray(148, 156)).trim() || '-1', 8);
}

/**
 * The `path` of a PAX extended header, read record by record as Go does
 * ("<length> <key>=<value>\n", the last record of a key wins). Records that
 * change how much data follows (`size`, GNU sparse maps) are refused: a
 * reader that ignored them would see other files than Helm.
 */
function parsePaxPath(data: Buffer, what: string): string | undefined {
  let path: string | undefined;
  let rest = data;
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    const lengthText =
      space > 0 ? rest.subarray(0, space).toString('latin1') : '';
    const length = /^[1-9]\d{0,8}$/.test(lengthText) ? Number(lengthText) : 0;
    if (
      length <= space + 1 ||
      length > rest.length ||
      rest[length - 1] !== 0x0a
    ) {
      throw new InputError(`${what} has an invalid PAX extended header`);
    }
    const record = rest.subarray(space + 1, length - 1).toString('utf8');
    rest = rest.subarray(length);
    const equals = record.indexOf('=');
    if (equals <= 0) {
      throw new InputError(`${what} has an invalid PAX extended header`);
    }
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === 'size' || key.startsWith('GNU.sparse.')) {
      throw new InputError(`${what} has a PAX "${key}" record; it is refused`);
    }
    if (key === 'path') {
      if (value.includes('\0')) {
        throw new InputError(`${what} has an invalid PAX path`);
      }
      // An empty value keeps the header's own name, as in Go.
      path = value === '' ? undefined : value;
    }
  }
  return path;
}

import { InputError } from '@backstage/errors';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { parse as parseYaml } from 'yaml';

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

/**
 * Reads a Helm chart archive (.tgz) without writing anything to disk, and
 * refuses what a chart never needs: links, devices, absolute paths, `..`,
 * entries outside the chart's directory, and anything over the limits.
 */
export async function readChartArchive(
  archive: Buffer,
  limits: ChartArchiveLimits = DEFAULT_CHART_ARCHIVE_LIMITS,
): Promise<ChartArchiveContents> {
  if (archive.length > limits.maxCompressedBytes) {
    throw new InputError(
      `chart archive is ${archive.length} bytes; the limit is ${limits.maxCompressedBytes}`,
    );
  }
  let tar: Buffer;
  try {
    // maxOutputLength stops a gzip bomb while inflating, not afterwards.
    tar = await gunzipAsync(archive, {
      maxOutputLength: limits.maxUncompressedBytes,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError(
        `chart archive expands beyond ${limits.maxUncompressedBytes} bytes`,
      );
    }
    throw new InputError('chart archive is not valid gzip');
  }

  const files = new Map<string, Buffer>();
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
        `chart archive has a corrupt tar header at byte ${offset}`,
      );
    }
    const type = String.fromCharCode(header[156] || 0x30);
    const size = parseOctal(header.subarray(124, 136));
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) {
      throw new InputError('chart archive is truncated');
    }
    const data = tar.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'L') {
      longName = cString(data);
      continue;
    }
    if (type === 'x') {
      paxPath = parsePaxPath(data) ?? paxPath;
      continue;
    }
    if (type === 'g') {
      continue; // global PAX header: nothing we use
    }

    entryCount++;
    if (entryCount > limits.maxEntries) {
      throw new InputError(
        `chart archive has more than ${limits.maxEntries} entries`,
      );
    }
    const prefix = cString(header.subarray(345, 500));
    const name =
      paxPath ??
      longName ??
      (prefix ? `${prefix}/` : '') + cString(header.subarray(0, 100));
    paxPath = undefined;
    longName = undefined;
    const path = checkPath(name);

    if (type === '1' || type === '2') {
      throw new InputError(
        `chart archive entry "${path}" is a link; links are refused`,
      );
    }
    if (type !== '0' && type !== '5' && type !== '\0') {
      throw new InputError(
        `chart archive entry "${path}" has unsupported type "${type}"`,
      );
    }
    const top = path.split('/')[0];
    root ??= top;
    if (top !== root) {
      throw new InputError(
        `chart archive has entries outside "${root}/": "${path}"`,
      );
    }
    if (type !== '5') {
      files.set(path, data);
    }
  }

  if (!root) {
    throw new InputError('chart archive is empty');
  }
  const read = (file: string) => {
    const data = files.get(`${root}/${file}`);
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
  }
  return {
    metadata,
    valuesYaml: read('values.yaml'),
    valuesSchema,
    readme: read('README.md'),
    entryCount,
    uncompressedBytes: tar.length,
  };
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

function checkPath(name: string): string {
  const path = name.replace(/\/+$/, '');
  if (
    !path ||
    path.startsWith('/') ||
    /^[A-Za-z]:/.test(path) ||
    path.includes('\\')
  ) {
    throw new InputError(
      `chart archive entry "${name}" has an absolute or invalid path`,
    );
  }
  if (path.split('/').some(part => part === '..' || part === '')) {
    throw new InputError(
      `chart archive entry "${name}" escapes the chart directory`,
    );
  }
  return path;
}

function parseOctal(field: Buffer): number {
  const text = cString(field).trim();
  if (!/^[0-7]*$/.test(text)) {
    throw new InputError('chart archive has a tar header with an invalid size');
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

function parsePaxPath(data: Buffer): string | undefined {
  // Records are "<length> <key>=<value>\n".
  for (const record of data.toString('utf8').split('\n')) {
    const match = /^\d+ path=(.*)$/.exec(record);
    if (match) return match[1];
  }
  return undefined;
}

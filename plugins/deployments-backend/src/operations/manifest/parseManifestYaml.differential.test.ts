/*
 * Differential property test: parseManifestYaml against Go's reading of the
 * same text, through the real helm CLIs (4 and 3). `fromYaml` in a template
 * is sigs.k8s.io/yaml.Unmarshal (yaml.v2 underneath), the reader on the API
 * server's path. For every generated text, either we refuse it, or Go
 * reports an error, or we read the same identity (apiVersion, kind,
 * metadata.namespace, metadata.name) as Go. The texts come from a seeded
 * PRNG, so a failure reproduces.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as naiveParse } from 'yaml';
import { canonicalDocument } from './canonicalManifest';
import { parseManifestYaml } from './parseManifestYaml';

const execFileAsync = promisify(execFile);

const SEED = 0x6b756265;
const TEXT_COUNT = 400;
const CANONICAL_SAMPLE = 120;

// ---------------------------------------------------------------------------
// A tiny seeded PRNG (xorshift32).

class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x;
  }

  int(n: number): number {
    return this.next() % n;
  }

  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

// ---------------------------------------------------------------------------
// The generator: Kubernetes-like objects whose identity is written in many ways.

/** Line breaks Go's YAML reads and ours refuses. */
const COMMENT_BREAKS = ['\r', '\u0085', '\u2028', '\u2029'];
const BREAK_NAMES: Record<string, string> = {
  '\r': 'CR',
  '\u0085': 'NEL',
  '\u2028': 'LS',
  '\u2029': 'PS',
};

/**
 * Half the documents avoid what we refuse on sight (tags, anchors, merge
 * keys, hidden line breaks, ambiguous escapes), so that a good share is
 * accepted and compared; the other half mixes everything in.
 */
let hazards = true;

/** Plain scalars that YAML 1.1 (and Go) may resolve to something else than a string. */
const YAML11_SCALARS = [
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'Y',
  'true',
  'False',
  '~',
  'null',
  'Null',
  '0x1F',
  '010',
  '0o17',
  '0O17',
  '-0o17',
  '0b101',
  '1_000',
  '+12',
  '-7',
  '1e3',
  '12e03',
  '1.5',
  '-.5',
  '.5',
  '1.',
  '.inf',
  '-.Inf',
  '.nan',
  '1:20',
  '190:20:30',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '=',
  '<<',
];

const DOUBLE_QUOTED_SPECIALS = [
  String.raw`"team-a\u2028"`,
  String.raw`"team-a\u2029"`,
  String.raw`"team-a\x85"`,
  String.raw`"team-a\N"`,
  String.raw`"team-a\L"`,
  String.raw`"team-a\P"`,
  String.raw`"team-a\r"`,
  String.raw`"team-a\r\n"`,
  String.raw`"team-a\e"`,
  String.raw`"team-a\0"`,
  String.raw`"team-a\a"`,
  String.raw`"team-a\t"`,
  String.raw`"team-a\_"`,
  String.raw`"\x41"`,
  String.raw`"\x7f"`,
  String.raw`"\ufeffteam-a"`,
  String.raw`"team-\U0001F600"`,
  String.raw`"team-\ud83d\ude00"`,
  String.raw`"tea\
    m-a"`,
  String.raw`"team-a\/"`,
  String.raw`"team-a\ "`,
];

/** Escapes both readers take the same way. */
const HARMLESS_DOUBLE_QUOTED = [
  String.raw`"team-a\t"`,
  String.raw`"team-a\_"`,
  String.raw`"\x41"`,
  String.raw`"team-\U0001F600"`,
  String.raw`"team-a\/"`,
  String.raw`"team-a\ "`,
  String.raw`"tea\
    m-a"`,
];

const SAFE_EXTRA_VALUES = ['héllo', '日本', 'a b', 'x-y.z', 'ok', '😀 smile'];

type Ctx = { flow: boolean; indent: number };

/** A value already written for a context. */
type Write = (ctx: Ctx) => string;

interface MapNode {
  entries: Entry[];
  flow: boolean;
  /** Text right after the key's colon, e.g. ' &m' or ' !!map'. */
  prefix?: string;
}

type Entry =
  | { key: string; value: Write | MapNode; after?: string; sep?: string }
  | { comment: string };

function isMap(value: Write | MapNode): value is MapNode {
  return typeof value !== 'function';
}

function escapeSome(random: Random, value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code < 0x80 && /[a-z0-9-]/.test(char) && random.chance(0.3)) {
      const hex = code.toString(16).padStart(2, '0');
      out += random.pick([`\\x${hex}`, `\\u00${hex}`, `\\U000000${hex}`]);
    } else if (char === '"' || char === '\\') {
      out += `\\${char}`;
    } else {
      out += char;
    }
  }
  return out;
}

function canBePlain(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(value);
}

/** One scalar, written in one of the ways YAML allows (or almost allows). */
function writeScalar(random: Random, value: string): Write {
  const roll = random.int(100);
  return ({ flow, indent }) => {
    const plain = canBePlain(value) ? value : JSON.stringify(value);
    if (roll < 35) return plain;
    if (roll < 47) return `'${value.replace(/'/g, "''")}'`;
    if (roll < 59) return JSON.stringify(value);
    if (roll < 68) return `"${escapeSome(random, value)}"`;
    if (roll < 72 && hazards) return `!!str ${plain}`;
    if (roll < 75 && hazards) return `!<tag:yaml.org,2002:str> ${plain}`;
    if (roll < 79 && !flow) {
      const pad = ' '.repeat(indent + 2);
      return `${random.pick([
        '|-',
        '|',
        '>-',
        '>',
        '|+',
        '|2-',
      ])}\n${pad}${value}`;
    }
    if (roll < 83) return `${plain} # ${random.pick(['note', 'x: y'])}`;
    if (roll < 86 && !flow) {
      // A plain scalar folded over two lines.
      const pad = ' '.repeat(indent + 2);
      return canBePlain(value) && value.length > 2
        ? `${value.slice(0, 2)}\n${pad}${value.slice(2)}`
        : plain;
    }
    if (roll < 89 && hazards) return `&v${random.int(3)} ${plain}`;
    return plain;
  };
}

/** A value that is not a plain, harmless string: YAML 1.1 scalars and escapes. */
function writeOddScalar(random: Random): Write {
  if (random.chance(0.6)) {
    const text = random.pick(YAML11_SCALARS);
    const style = random.int(4);
    const quote = ["'", '"', '', ''][style];
    return () => `${quote}${text}${quote}`;
  }
  const text = random.pick(
    hazards ? DOUBLE_QUOTED_SPECIALS : HARMLESS_DOUBLE_QUOTED,
  );
  return ({ flow }) => (flow ? text.replace(/\\\n\s*/, '') : text);
}

function writeKey(random: Random, key: string): string {
  const roll = random.int(100);
  if (roll < 75) return key;
  if (roll < 82) return `"${key}"`;
  if (roll < 87) return `'${key}'`;
  if (roll < 92) return `"${escapeSome(random, key)}"`;
  if (roll < 95 && hazards) return `!!str ${key}`;
  return `? ${key}\n`;
}

function identityValue(random: Random, usual: string): Write {
  return random.chance(0.12)
    ? writeOddScalar(random)
    : writeScalar(random, usual);
}

function hiddenComment(random: Random, line: string): string {
  const brk = hazards && random.chance(0.5) ? random.pick(COMMENT_BREAKS) : '';
  return brk ? `note${brk}${line}` : random.pick(['note', line, '']);
}

function generateText(random: Random): string {
  hazards = random.chance(0.5);
  /** Chance p of a hazardous decoration, none in a harmless document. */
  const risk = (p: number) => hazards && random.chance(p);
  const name = random.chance(0.9) ? `app-${random.int(1000)}` : 'web';
  const namespace = random.pick(['team-a', 'team-a', 'team-a', 'default']);
  const metadataEntries: Entry[] = [];
  const mergeKey = (): Entry => ({
    key: random.pick(['<<', '"<<"', '!!merge <<']),
    value: random.chance(0.5)
      ? () => '{namespace: team-b}'
      : () => random.pick(['*m', '[{namespace: team-b}]', 'team-b']),
  });
  const anchoredElsewhere = risk(0.06);

  metadataEntries.push({
    key: writeKey(random, 'name'),
    value: identityValue(random, name),
  });
  if (risk(0.06)) metadataEntries.push(mergeKey());
  if (random.chance(0.9)) {
    metadataEntries.push({
      key: writeKey(random, 'namespace'),
      value: anchoredElsewhere ? () => '*ns' : identityValue(random, namespace),
      sep: random.chance(0.08) ? random.pick(['\t', ' \t', '  ']) : ' ',
      after: random.chance(0.12)
        ? `${random.pick([' ', '\t'])}# ${hiddenComment(
            random,
            'namespace: team-b',
          )}`
        : undefined,
    });
  }
  if (risk(0.08)) metadataEntries.push(mergeKey());
  if (risk(0.06)) {
    metadataEntries.push({
      key: writeKey(random, random.pick(['namespace', 'name'])),
      value: writeScalar(random, random.pick(['team-b', 'other'])),
    });
  }
  if (random.chance(0.1)) {
    metadataEntries.push({
      comment: hiddenComment(random, 'namespace: team-b'),
    });
  }
  if (random.chance(0.5) || anchoredElsewhere) {
    const labels: Entry[] = [
      {
        key: 'app',
        value: anchoredElsewhere
          ? () => '&ns team-b'
          : writeScalar(random, name),
      },
    ];
    if (random.chance(0.3)) {
      labels.push({
        key: writeKey(random, 'tier'),
        value: writeOddScalar(random),
      });
    }
    metadataEntries.splice(random.int(metadataEntries.length + 1), 0, {
      key: 'labels',
      value: { entries: labels, flow: random.chance(0.5) },
    });
  }
  if (risk(0.05)) {
    metadataEntries.unshift({
      key: 'annotations',
      value: {
        entries: [{ key: 'namespace', value: () => 'team-b' }],
        flow: random.chance(0.5),
        prefix: ' &m',
      },
    });
  }
  shuffleSome(random, metadataEntries);

  const dataEntries: Entry[] = [];
  const dataCount = random.int(4);
  for (let i = 0; i < dataCount; i++) {
    dataEntries.push({
      key: writeKey(random, `k${i}`),
      value: random.chance(0.3)
        ? writeOddScalar(random)
        : writeScalar(random, random.pick(SAFE_EXTRA_VALUES)),
    });
  }

  const root: Entry[] = [
    {
      key: writeKey(random, 'apiVersion'),
      value: identityValue(
        random,
        random.pick(['v1', 'apps/v1', 'batch/v1', 'networking.k8s.io/v1']),
      ),
    },
    {
      key: writeKey(random, 'kind'),
      value: identityValue(
        random,
        random.pick(['ConfigMap', 'Secret', 'Deployment', 'Service']),
      ),
    },
    {
      key: writeKey(random, 'metadata'),
      value: {
        entries: metadataEntries,
        flow: random.chance(0.3),
        prefix: risk(0.04) ? random.pick([' !!map', ' &meta']) : undefined,
      },
    },
  ];
  if (dataEntries.length > 0) {
    root.push({
      key: 'data',
      value: { entries: dataEntries, flow: random.chance(0.4) },
    });
  }
  if (risk(0.05)) {
    root.push({
      key: writeKey(random, random.pick(['kind', 'apiVersion', 'metadata'])),
      value: random.chance(0.5)
        ? writeScalar(random, 'Other')
        : () => '{namespace: team-b}',
    });
  }
  if (random.chance(0.08)) {
    root.splice(random.int(root.length + 1), 0, {
      comment: hiddenComment(random, 'metadata: {namespace: team-b}'),
    });
  }
  shuffleSome(random, root);

  const flowRoot = random.chance(0.1);
  let body = flowRoot
    ? writeFlowMap({ entries: root, flow: true })
    : writeBlockEntries(root, 0).join('\n');

  let prefix = '';
  if (random.chance(0.05)) prefix += '\ufeff';
  if (random.chance(0.06)) {
    prefix += hazards
      ? random.pick([
          '%YAML 1.1\n',
          '%YAML 1.2\n',
          '%TAG !k! tag:yaml.org,2002:\n',
        ])
      : '%YAML 1.1\n';
    prefix += '---\n';
  } else if (flowRoot && random.chance(0.5)) {
    prefix += '--- ';
  } else if (random.chance(0.3)) {
    prefix += random.pick(['---\n', '--- # start\n', '---\t\n']);
  }
  if (random.chance(0.1)) prefix = `# leading comment\n${prefix}`;
  if (risk(0.04)) body = body.replace(/\n {2}(?=\S)/, '\n\t');
  let text = `${prefix}${body}\n`;
  if (random.chance(0.1))
    text += random.pick(['...\n', '...\n# after\n', '...']);
  if (random.chance(0.1)) text = text.replace(/\n/g, '\r\n');
  return text;
}

function shuffleSome(random: Random, entries: Entry[]): void {
  if (entries.length > 1 && random.chance(0.3)) {
    const i = random.int(entries.length);
    const j = random.int(entries.length);
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
}

function writeFlowMap(map: MapNode): string {
  const parts = map.entries
    .filter(
      (entry): entry is Exclude<Entry, { comment: string }> =>
        !('comment' in entry),
    )
    .map(entry => {
      const key = entry.key.replace(/^\? (.*)\n$/, '? $1');
      const value = isMap(entry.value)
        ? `${entry.value.prefix ?? ''} ${writeFlowMap(entry.value)}`.trim()
        : entry.value({ flow: true, indent: 0 }).replace(/ #.*$/, '');
      return `${key}: ${value}`;
    });
  return `{${parts.join(', ')}}`;
}

function writeBlockEntries(entries: Entry[], indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const entry of entries) {
    if ('comment' in entry) {
      lines.push(`${pad}# ${entry.comment}`);
      continue;
    }
    const explicit = entry.key.endsWith('\n');
    const key = explicit ? `${entry.key}${pad}` : entry.key;
    if (isMap(entry.value)) {
      if (entry.value.flow) {
        lines.push(
          `${pad}${key}:${entry.value.prefix ?? ''} ${writeFlowMap(
            entry.value,
          )}`,
        );
      } else if (entry.value.entries.length === 0) {
        lines.push(`${pad}${key}: {}`);
      } else {
        lines.push(`${pad}${key}:${entry.value.prefix ?? ''}`);
        lines.push(...writeBlockEntries(entry.value.entries, indent + 2));
      }
      continue;
    }
    const value = entry.value({ flow: false, indent });
    lines.push(`${pad}${key}:${entry.sep ?? ' '}${value}${entry.after ?? ''}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Readings.

type Json = Record<string, unknown>;

type OurReading =
  | { refused: true; message: string }
  | { refused: false; objects: Json[] };

function readOurs(text: string): OurReading {
  try {
    return {
      refused: false,
      objects: parseManifestYaml(text, { source: 'differential' }).map(
        document => document.object,
      ),
    };
  } catch (error) {
    if ((error as Error).name !== 'InputError') {
      // Anything but a refusal is a bug of its own.
      throw new Error(
        `parseManifestYaml threw ${(error as Error).name} on ${JSON.stringify(
          text,
        )}: ${(error as Error).message}`,
      );
    }
    return { refused: true, message: (error as Error).message };
  }
}

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

const ABSENT = '<absent>';

function show(value: unknown): string {
  return value === undefined ? ABSENT : JSON.stringify(value);
}

/** apiVersion, kind, metadata.namespace, metadata.name, each as JSON (or absent). */
function identity(object: Json): string[] {
  const metadata = record(object.metadata);
  return [
    show(object.apiVersion),
    show(object.kind),
    show(metadata?.namespace),
    show(metadata?.name),
  ];
}

/** What `fromYaml` gave: the object, or the error it reported. */
type GoReading = { error: string } | { object: Json };

function goError(reading: GoReading): string | undefined {
  return 'error' in reading ? reading.error : undefined;
}

function goObject(reading: GoReading): Json {
  if ('error' in reading) throw new Error(`Go refused: ${reading.error}`);
  return reading.object;
}

const HELM_BINARIES = [
  ['helm 4', 'helm'],
  ['helm 3', process.env.KUBEDEPLOY_HELM3 ?? 'helm3'],
] as const;

/**
 * Go's reading of every text, with one `helm template` of a throw-away chart
 * holding the texts as files. Keys are `${group}${index}`.
 */
async function readWithGo(
  binary: string,
  groups: Record<string, string[]>,
): Promise<Map<string, GoReading>> {
  const work = mkdtempSync(join(tmpdir(), 'kd-yaml-differential-'));
  try {
    const chart = join(work, 'chart');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    mkdirSync(join(chart, 'files'), { recursive: true });
    writeFileSync(
      join(chart, 'Chart.yaml'),
      'apiVersion: v2\nname: differential\nversion: 0.1.0\n',
    );
    const template = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: differential',
    ];
    for (const [group, texts] of Object.entries(groups)) {
      texts.forEach((text, index) =>
        writeFileSync(join(chart, 'files', `${group}-${index}.yaml`), text),
      );
      template.push(
        `{{- range $i := until ${texts.length} }}`,
        `# ${group}{{ $i }} {{ $.Files.Get (printf "files/${group}-%d.yaml" $i) | fromYaml | toJson | b64enc }}`,
        '{{- end }}',
      );
    }
    writeFileSync(
      join(chart, 'templates', 'read.yaml'),
      `${template.join('\n')}\n`,
    );
    const home = join(work, 'home');
    const { stdout } = await execFileAsync(
      binary,
      ['template', 'differential', chart],
      {
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          HELM_CONFIG_HOME: join(home, 'config'),
          HELM_CACHE_HOME: join(home, 'cache'),
          HELM_DATA_HOME: join(home, 'data'),
        },
      },
    );
    const readings = new Map<string, GoReading>();
    for (const match of stdout.matchAll(/^# ([a-z]+\d+) (.*)$/gm)) {
      // Base64, because toJson leaves NEL and BOM raw, which helm's own YAML reading of the output would trip on.
      const line = Buffer.from(match[2], 'base64').toString('utf8');
      if (line === '') {
        // toJson failed: fromYaml gave something JSON cannot hold.
        readings.set(match[1], { error: '(not representable as JSON)' });
        continue;
      }
      const value = JSON.parse(line) as Json;
      readings.set(
        match[1],
        typeof value.Error === 'string'
          ? { error: value.Error }
          : { object: value },
      );
    }
    for (const [group, texts] of Object.entries(groups)) {
      texts.forEach((_text, index) => {
        if (!readings.has(`${group}${index}`)) {
          throw new Error(`helm printed no reading for ${group}${index}`);
        }
      });
    }
    return readings;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// The attacks: each must be real (Go reads another namespace than a naive
// reading) and refused by us.

const ATTACKS: Record<string, string> = {
  'merge key after the namespace overrides it': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: app',
    '  namespace: team-a',
    '  <<: {namespace: team-b}',
    '',
  ].join('\n'),
  'alias supplies the namespace through a merge key': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  labels: &defaults {namespace: team-b}',
    '  name: app',
    '  namespace: team-a',
    '  <<: *defaults',
    '',
  ].join('\n'),
  ...Object.fromEntries(
    COMMENT_BREAKS.map(brk => [
      `namespace line hidden in a comment by ${BREAK_NAMES[brk]}`,
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        `  name: app # note${brk}  namespace: team-b`,
        '',
      ].join('\n'),
    ]),
  ),
};

// ---------------------------------------------------------------------------

const random = new Random(SEED);
const texts = Array.from({ length: TEXT_COUNT }, () => generateText(random));
const ours = texts.map(readOurs);
const attackNames = Object.keys(ATTACKS);

/** Objects we accept, re-emitted as canonical JSON (a sample). */
const accepted = ours
  .flatMap(reading => (reading.refused ? [] : reading.objects))
  .slice(0, CANONICAL_SAMPLE);
const canonicalTexts = accepted.map(object => canonicalDocument(object));

/*
 * Found by this test, then fixed: in YAML 1.1 mode the `yaml` library applied
 * plain `<<` merge keys even with `merge: false` (explicit keys winning,
 * where yaml.v2 applies `<<` in document order). The merge tag is now
 * refused, so `<<` stays a key that the reader refuses. Texts with a plain
 * `<<` key are reported apart below.
 */
const PLAIN_MERGE_KEY = /(^|\n|[{,])[ \t]*<<[ \t]*:/;

/*
 * Found by this test, then fixed: canonicalDocument escaped every UTF-16
 * unit, so a character outside the BMP (an emoji) became a surrogate pair
 * such as "\ud83d\ude00", which yaml.v2 rejects ("found invalid Unicode
 * character escape code"). It now writes YAML's \U escape.
 */
const ASTRAL = /[\u{10000}-\u{10ffff}]/u;

/*
 * Found by this test, then fixed: a plain 0o17 (or 0O17) was the string
 * "0o17" for our YAML 1.1 reader but the number 15 for yaml.v2, which
 * resolves ints with Go's strconv.ParseInt(s, 0, 64); the reader now refuses
 * such plain values. Counterexamples of this shape are reported apart below.
 */
function isGoOnlyOctal(ourValue: string, goValue: string): boolean {
  return /^"[-+]?0[oO][0-7_]+"$/.test(ourValue) && /^-?\d+$/.test(goValue);
}

type Known = 'merge key' | 'Go-only octal' | 'astral' | undefined;

interface Counterexample {
  known: Known;
  report: string;
}

function reportOf(counterexamples: Counterexample[], known: Known): string {
  const chosen = counterexamples.filter(c => c.known === known);
  return chosen.length === 0
    ? ''
    : `${chosen.length} counterexamples, the first ones:\n${chosen
        .slice(0, 5)
        .map(c => c.report)
        .join('\n')}`;
}

describe.each(HELM_BINARIES)(
  'parseManifestYaml against Go (%s fromYaml)',
  (_label, binary) => {
    let go: Map<string, GoReading>;
    const identityCounterexamples: Counterexample[] = [];
    const canonicalCounterexamples: Counterexample[] = [];
    const counts = {
      texts: texts.length,
      refusedByUs: 0,
      errorInGo: 0,
      agreed: 0,
      disagreed: 0,
    };

    beforeAll(async () => {
      go = await readWithGo(binary, {
        doc: texts,
        attack: attackNames.map(name => ATTACKS[name]),
        canon: canonicalTexts,
      });
      texts.forEach((text, index) => {
        const our = ours[index];
        const reading = go.get(`doc${index}`)!;
        if (our.refused) {
          counts.refusedByUs++;
          return;
        }
        if (goError(reading) !== undefined) {
          counts.errorInGo++;
          return;
        }
        const theirs = identity(goObject(reading));
        const mine =
          our.objects.length === 1
            ? identity(our.objects[0])
            : [`${our.objects.length} objects`];
        if (JSON.stringify(mine) === JSON.stringify(theirs)) {
          counts.agreed++;
          return;
        }
        counts.disagreed++;
        const octal = mine.every(
          (value, field) =>
            value === theirs[field] || isGoOnlyOctal(value, theirs[field]),
        );
        let known: Known;
        if (octal) known = 'Go-only octal';
        else if (PLAIN_MERGE_KEY.test(text)) known = 'merge key';
        identityCounterexamples.push({
          known,
          report: `#${index} ${JSON.stringify(text)}\n  ours: ${mine.join(
            ' ',
          )}\n  Go:   ${theirs.join(' ')}`,
        });
      });
      canonicalTexts.forEach((text, index) => {
        const reading = go.get(`canon${index}`)!;
        const error = goError(reading);
        if (
          error === undefined &&
          JSON.stringify(sortKeys(goObject(reading))) ===
            JSON.stringify(sortKeys(accepted[index]))
        ) {
          return;
        }
        canonicalCounterexamples.push({
          known: ASTRAL.test(JSON.stringify(accepted[index]))
            ? 'astral'
            : undefined,
          report: `#${index} ${JSON.stringify(text)}\n  Go: ${JSON.stringify(
            error === undefined ? goObject(reading) : { error },
          )}`,
        });
      });
      // eslint-disable-next-line no-console
      console.log(
        `${binary}: ${JSON.stringify(counts)}; canonical documents: ${
          canonicalTexts.length
        }, not read back the same: ${canonicalCounterexamples.length}`,
      );
      if (process.env.DIFFERENTIAL_VERBOSE) {
        // eslint-disable-next-line no-console
        console.log(
          [
            reportOf(identityCounterexamples, 'merge key'),
            reportOf(identityCounterexamples, 'Go-only octal'),
            reportOf(canonicalCounterexamples, 'astral'),
          ].join('\n'),
        );
      }
    }, 180_000);

    it('refuses, or Go errs, or reads the same identity as Go', () => {
      expect(reportOf(identityCounterexamples, undefined)).toBe('');
      // Not vacuous: a good share is read by both, and a good share refused.
      expect(counts.agreed).toBeGreaterThanOrEqual(texts.length / 4);
      expect(counts.refusedByUs).toBeGreaterThanOrEqual(texts.length / 10);
    });

    it('refuses, or Go errs, or reads the same identity as Go, with plain merge keys', () => {
      expect(reportOf(identityCounterexamples, 'merge key')).toBe('');
    });

    it('refuses, or Go errs, or reads the same identity as Go, with 0o octal numbers', () => {
      expect(reportOf(identityCounterexamples, 'Go-only octal')).toBe('');
    });

    it.each(attackNames)('is a real attack: %s', name => {
      const text = ATTACKS[name];
      const reading = go.get(`attack${attackNames.indexOf(name)}`)!;
      const naive = record(record(naiveParse(text))?.metadata);
      // Go reads team-b where a naive reading (the `yaml` library's defaults) does not.
      expect(record(goObject(reading).metadata)?.namespace).toBe('team-b');
      expect(naive?.namespace).not.toBe('team-b');
    });

    it.each(attackNames)('refuses the attack: %s', name => {
      expect(readOurs(ATTACKS[name]).refused).toBe(true);
    });

    it('reads our canonical JSON as the same full object', () => {
      expect(canonicalTexts.length).toBeGreaterThanOrEqual(50);
      expect(reportOf(canonicalCounterexamples, undefined)).toBe('');
    });

    it('reads our canonical JSON as the same full object, with characters outside the BMP', () => {
      expect(reportOf(canonicalCounterexamples, 'astral')).toBe('');
    });
  },
);

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  const object = record(value);
  if (!object) return value;
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map(key => [key, sortKeys(object[key])]),
  );
}

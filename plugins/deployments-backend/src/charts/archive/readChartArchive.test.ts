import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { requireLocalStack, runHelm } from '../../__testUtils__/localStack';
import { readChartArchive } from './readChartArchive';

/** A minimal tar writer, so hostile archives can be built byte by byte. */
function tarEntry(
  name: string,
  content: string | Buffer,
  type = '0',
  fields: { prefix?: string; magic?: string; size?: number } = {},
): Buffer {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(
    `${(fields.size ?? data.length).toString(8).padStart(11, '0')}\0`,
    124,
  );
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write(fields.magic ?? 'ustar\u000000', 257, 'latin1');
  if (fields.prefix) header.write(fields.prefix, 345);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding]);
}

function tgz(...entries: Buffer[]): Buffer {
  return gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));
}

const chartYaml =
  'apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: "2.0"\n';

/** A PAX extended header ('x') with the records given, lengths computed. */
function pax(records: Array<[string, string]>): Buffer {
  const lines = records.map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    let length = Buffer.byteLength(body) + 1;
    while (String(length).length + Buffer.byteLength(body) !== length) {
      length++;
    }
    return `${length}${body}`;
  });
  return tarEntry('demo/PaxHeader', lines.join(''), 'x');
}

function crd(name: string, apiVersion = 'apiextensions.k8s.io/v1'): string {
  const [plural, ...group] = name.split('.');
  return [
    `apiVersion: ${apiVersion}`,
    'kind: CustomResourceDefinition',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  group: ${group.join('.')}`,
    '  scope: Namespaced',
    `  names: {plural: ${plural}, kind: Widget}`,
    '  versions:',
    '    - name: v1',
    '      served: true',
    '      storage: true',
    '      schema: {openAPIV3Schema: {type: object}}',
    '',
  ].join('\n');
}

const configMapInTeamB =
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smuggled\n  namespace: team-b\ndata:\n  a: b\n';
const clusterAdminBinding = [
  'apiVersion: rbac.authorization.k8s.io/v1',
  'kind: ClusterRoleBinding',
  'metadata: {name: everyone-admin}',
  'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}',
  'subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]',
  '',
].join('\n');

/** A chart archive: Chart.yaml plus the files given, under demo/. */
function chartWith(files: Record<string, string | Buffer>, root = 'demo') {
  return tgz(
    tarEntry(`${root}/Chart.yaml`, chartYaml),
    ...Object.entries(files).map(([path, content]) =>
      tarEntry(`${root}/${path}`, content),
    ),
  );
}

describe('readChartArchive', () => {
  it('reads the example hello chart as helm packaged it', async () => {
    requireLocalStack(); // the stack packaged the example charts
    const dir = join(process.env.KUBEDEPLOY_STACK_DIR!, 'charts', 'hello');
    const [sum] = readdirSync(dir);
    const archive = readFileSync(join(dir, sum, 'hello-0.1.0.tgz'));

    const chart = await readChartArchive(archive);

    expect(chart.metadata).toMatchObject({
      apiVersion: 'v2',
      name: 'hello',
      version: '0.1.0',
      appVersion: '1.27.0',
      kubeVersion: '>=1.30.0-0',
    });
    expect(chart.valuesYaml).toContain('replicaCount: 1');
    expect(chart.valuesSchema?.required).toEqual([
      'replicaCount',
      'image',
      'greeting',
      'service',
    ]);
    expect(chart.readme).toContain('# hello');
  });

  it('reads a minimal chart', async () => {
    const chart = await readChartArchive(
      tgz(tarEntry('demo/', '', '5'), tarEntry('demo/Chart.yaml', chartYaml)),
    );
    expect(chart.metadata).toMatchObject({
      name: 'demo',
      version: '1.2.3',
      appVersion: '2.0',
    });
    expect(chart.valuesSchema).toBeUndefined();
  });

  it.each([
    ['path traversal', [tarEntry('demo/../../etc/passwd', 'x')], /escapes/],
    ['absolute path', [tarEntry('/etc/passwd', 'x')], /absolute/],
    ['symlink', [tarEntry('demo/link', '', '2')], /link/],
    ['hard link', [tarEntry('demo/link', '', '1')], /link/],
    ['device', [tarEntry('demo/dev', '', '3')], /unsupported type/],
    [
      'two roots',
      [tarEntry('demo/Chart.yaml', chartYaml), tarEntry('other/x', 'y')],
      /outside/,
    ],
    [
      'no Chart.yaml',
      [tarEntry('demo/values.yaml', 'a: 1')],
      /no demo\/Chart.yaml/,
    ],
    [
      'bad schema',
      [
        tarEntry('demo/Chart.yaml', chartYaml),
        tarEntry('demo/values.schema.json', '{'),
      ],
      /not valid JSON/,
    ],
    [
      'a schema pattern Helm cannot compile',
      [
        tarEntry('demo/Chart.yaml', chartYaml),
        tarEntry(
          'demo/values.schema.json',
          '{"properties": {"name": {"type": "string", "pattern": "^(?!admin)"}}}',
        ),
      ],
      /#\/properties\/name\/pattern is not RE2 syntax/,
    ],
  ])('refuses %s', async (_name, entries, message) => {
    await expect(readChartArchive(tgz(...entries))).rejects.toThrow(message);
  });

  it('refuses too many entries', async () => {
    const entries = Array.from({ length: 30 }, (_, i) =>
      tarEntry(`demo/f${i}`, 'x'),
    );
    await expect(
      readChartArchive(tgz(...entries), {
        maxCompressedBytes: 1e6,
        maxUncompressedBytes: 1e7,
        maxEntries: 20,
        maxMetadataFileBytes: 1e5,
      }),
    ).rejects.toThrow(/more than 20 entries/);
  });

  it('stops a gzip bomb while inflating', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
    const start = Date.now();
    await expect(readChartArchive(bomb)).rejects.toThrow(/expands beyond/);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('refuses an oversize archive before inflating it', async () => {
    await expect(
      readChartArchive(Buffer.alloc(11 * 1024 * 1024)),
    ).rejects.toThrow(/limit/);
  });

  it('reads a Chart.yaml of many keys in linear time', async () => {
    let many = chartYaml;
    for (let i = 0; many.length < 1000 * 1024; i++) {
      many += `k${i}: 1\n`;
    }
    const start = Date.now();
    const chart = await readChartArchive(
      tgz(tarEntry('demo/Chart.yaml', `${many}version: 1.2.4\n`)),
    );
    // The last of duplicate keys wins, as in Helm.
    expect(chart.metadata.version).toBe('1.2.4');
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('refuses a corrupt header', async () => {
    const archive = Buffer.concat([
      tarEntry('demo/Chart.yaml', chartYaml),
      Buffer.alloc(1024),
    ]);
    archive[10] ^= 0xff;
    await expect(readChartArchive(gzipSync(archive))).rejects.toThrow(
      /corrupt/,
    );
  });

  describe('crds/ folders', () => {
    it('records the CustomResourceDefinitions of the chart and every subchart', async () => {
      const subchartArchive = chartWith(
        { 'crds/gadgets.yaml': crd('gadgets.example.com') },
        'inner',
      );
      const chart = await readChartArchive(
        chartWith({
          'crds/widgets.yaml': `${crd('widgets.example.com')}---\n${crd(
            'gizmos.example.com',
            'apiextensions.k8s.io/v1beta1',
          )}`,
          'crds/nested/sprockets.json': JSON.stringify({
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            metadata: { name: 'sprockets.example.com' },
            spec: {},
          }),
          'charts/sub/Chart.yaml':
            'apiVersion: v2\nname: sub\nversion: 0.1.0\n',
          'charts/sub/crds/cogs.yml': crd('cogs.example.com'),
          'charts/inner-0.1.0.tgz': subchartArchive,
          // Not CRD files for Helm: not under crds/, or not a manifest extension.
          'crds/README.md': configMapInTeamB,
          'templates/crds/cm.yaml': configMapInTeamB,
          'CRDs/cm.yaml': configMapInTeamB,
          // Helm's loader skips subcharts whose names start with _ or .
          'charts/_skipped/crds/cm.yaml': configMapInTeamB,
        }),
      );
      expect(chart.metadata.crds).toEqual([
        {
          file: 'crds/widgets.yaml',
          names: ['widgets.example.com', 'gizmos.example.com'],
        },
        {
          file: 'crds/nested/sprockets.json',
          names: ['sprockets.example.com'],
        },
        { file: 'charts/sub/crds/cogs.yml', names: ['cogs.example.com'] },
        {
          file: 'charts/inner-0.1.0.tgz/crds/gadgets.yaml',
          names: ['gadgets.example.com'],
        },
      ]);
    });

    it('records that a chart ships none', async () => {
      const chart = await readChartArchive(chartWith({}));
      expect(chart.metadata.crds).toEqual([]);
    });

    it.each<[string, Record<string, string | Buffer>, RegExp]>([
      [
        'a ConfigMap in crds/',
        { 'crds/cm.yaml': configMapInTeamB },
        /document 1 of the chart file "crds\/cm.yaml" is a ConfigMap \(v1\), not a CustomResourceDefinition/,
      ],
      [
        'a ClusterRoleBinding after a CRD in a subchart directory',
        {
          'charts/sub/Chart.yaml':
            'apiVersion: v2\nname: sub\nversion: 0.1.0\n',
          'charts/sub/crds/rbac.yaml': `${crd(
            'widgets.example.com',
          )}---\n${clusterAdminBinding}`,
        },
        /document 2 of the chart file "charts\/sub\/crds\/rbac.yaml" is a ClusterRoleBinding/,
      ],
      [
        'a ClusterRoleBinding in a subchart archive',
        {
          'charts/inner-0.1.0.tgz': chartWith(
            { 'crds/rbac.yaml': clusterAdminBinding },
            'inner',
          ),
        },
        /"charts\/inner-0.1.0.tgz\/crds\/rbac.yaml" is a ClusterRoleBinding/,
      ],
      [
        'a ConfigMap two subchart archives deep',
        {
          'charts/a-1.0.0.tgz': chartWith(
            {
              'charts/b-1.0.0.tgz': chartWith(
                { 'crds/cm.yaml': configMapInTeamB },
                'b',
              ),
            },
            'a',
          ),
        },
        /"charts\/a-1.0.0.tgz\/charts\/b-1.0.0.tgz\/crds\/cm.yaml" is a ConfigMap/,
      ],
      [
        // JS keeps the explicit keys; Go applies the merge after them.
        'a merge key that turns a CRD into a ClusterRoleBinding for Go',
        {
          'crds/merge.yaml': `${crd(
            'widgets.example.com',
          )}<<: {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding}\n`,
        },
        /"crds\/merge.yaml" uses a YAML merge key at line 14/,
      ],
      [
        'a quoted merge key',
        { 'crds/merge.yaml': `${crd('widgets.example.com')}"<<": {}\n` },
        /uses a YAML merge key/,
      ],
      [
        'an anchor and alias',
        {
          'crds/alias.yaml': `${crd(
            'widgets.example.com',
          )}status: &s {}\nx: *s\n`,
        },
        /uses a YAML anchor/,
      ],
      [
        'a tag',
        {
          'crds/tag.yaml': crd('widgets.example.com').replace(
            'kind:',
            'kind: !!str',
          ),
        },
        /uses a YAML tag/,
      ],
      [
        // For JS one comment line; for Go a ConfigMap in team-b.
        'a document hidden in a comment by U+2028',
        {
          'crds/hidden.yaml': `${crd(
            'widgets.example.com',
          )}---\n# nothing here${configMapInTeamB
            .trimEnd()
            .split('\n')
            .map(line => `\u2028${line}`)
            .join('')}\n`,
        },
        /"crds\/hidden.yaml" contains U\+2028 at line 15: control characters and line breaks other than LF and CRLF are refused/,
      ],
      [
        'a lone carriage return',
        { 'crds/cr.yaml': `# x\r${configMapInTeamB}` },
        /contains U\+000D at line 1/,
      ],
      [
        'NEL',
        { 'crds/nel.yaml': `# x\u0085${configMapInTeamB}` },
        /contains U\+0085/,
      ],
      [
        'U+2029',
        { 'crds/ps.yaml': `# x\u2029${configMapInTeamB}` },
        /contains U\+2029/,
      ],
      [
        // Kubernetes splits at '---#', YAML does not.
        'a document marker only Kubernetes splits at',
        {
          'crds/marker.yaml': `${crd(
            'widgets.example.com',
          )}---#\n${configMapInTeamB}`,
        },
        /document marker at line 14/,
      ],
      [
        // Go's JSON decoder reads both objects; YAML refuses the second.
        'two JSON objects in a row',
        {
          'crds/two.json': `${JSON.stringify({
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            metadata: { name: 'widgets.example.com' },
          })}\n${JSON.stringify({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'x' },
          })}`,
        },
        /not valid YAML/,
      ],
      [
        // encoding/json matches field names ignoring case.
        'a kind look-alike key',
        { 'crds/case.yaml': `${crd('widgets.example.com')}Kind: ConfigMap\n` },
        /has a top-level field other than apiVersion, kind, metadata, spec, status/,
      ],
      [
        // Kubernetes' unstructured decoder reads any object with items as a
        // list, and helm's builder creates each item.
        'a CRD with items',
        {
          'crds/items.yaml': `${crd(
            'widgets.example.com',
          )}items:\n  - ${JSON.stringify({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'x', namespace: 'team-b' },
          })}\n`,
        },
        /has a top-level field other than apiVersion, kind, metadata, spec, status/,
      ],
      [
        'a CRD without a name',
        {
          'crds/noname.yaml': crd('widgets.example.com').replace(
            '  name: widgets.example.com\n',
            '  labels: {}\n',
          ),
        },
        /without a valid metadata.name/,
      ],
      [
        'text that is not UTF-8',
        {
          'crds/utf16.yaml': Buffer.from(
            `\ufeff${configMapInTeamB}`,
            'utf16le',
          ),
        },
        /not UTF-8 text/,
      ],
      [
        'a subchart archive that is not gzip',
        { 'charts/bad-1.0.0.tgz': 'not gzip' },
        /subchart archive "charts\/bad-1.0.0.tgz" is not valid gzip/,
      ],
    ])('refuses %s', async (_name, files, message) => {
      const refused = readChartArchive(chartWith(files));
      await expect(refused).rejects.toThrow(message);
      await expect(refused).rejects.toMatchObject({ name: 'InputError' });
    });

    it('never repeats the content of a refused document', async () => {
      const error = await readChartArchive(
        chartWith({ 'crds/cm.yaml': configMapInTeamB }),
      ).catch((e: Error) => e);
      expect(String(error)).not.toMatch(/smuggled|team-b/);
    });

    it('refuses subchart archives nested more than 5 deep', async () => {
      let inner = chartWith({}, 'level6');
      for (let level = 5; level >= 1; level--) {
        inner = chartWith({ 'charts/next-1.0.0.tgz': inner }, `level${level}`);
      }
      await expect(
        readChartArchive(chartWith({ 'charts/next-1.0.0.tgz': inner })),
      ).rejects.toThrow(/nests subchart archives more than 5 deep/);
    });

    it('counts subchart archives against the same limits', async () => {
      const inner = chartWith(
        Object.fromEntries(
          Array.from({ length: 15 }, (_, i) => [`f${i}`, 'x']),
        ),
        'inner',
      );
      await expect(
        readChartArchive(chartWith({ 'charts/inner-1.0.0.tgz': inner }), {
          maxCompressedBytes: 1e6,
          maxUncompressedBytes: 1e7,
          maxEntries: 10,
          maxMetadataFileBytes: 1e5,
        }),
      ).rejects.toThrow(/more than 10 entries/);
    });
  });

  describe('reads the tar as Helm (Go) does, or refuses', () => {
    const crdFile = (name: string) =>
      tarEntry(name, crd('widgets.example.com'));

    it.each<[string, Buffer[], RegExp]>([
      [
        // A Map kept only the last; Helm installs both.
        'the same file twice',
        [
          tarEntry('demo/crds/x.yaml', configMapInTeamB),
          crdFile('demo/crds/x.yaml'),
        ],
        /has the entry "demo\/crds\/x.yaml" twice/,
      ],
      [
        // Go cleans the path to crds/cm.yaml.
        'a "." path segment',
        [tarEntry('demo/./crds/cm.yaml', configMapInTeamB)],
        /invalid path/,
      ],
      [
        // Go reads no data for a directory: the next header would be the ConfigMap.
        'a directory entry with data',
        [
          tarEntry(
            'demo/crds/',
            tarEntry('demo/crds/cm.yaml', configMapInTeamB),
            '5',
          ),
        ],
        /directory entry with data/,
      ],
      [
        'a PAX size record',
        [pax([['size', '0']]), tarEntry('demo/templates/a.yaml', 'x')],
        /PAX "size" record/,
      ],
    ])('refuses %s', async (_name, entries, message) => {
      await expect(
        readChartArchive(
          tgz(tarEntry('demo/Chart.yaml', chartYaml), ...entries),
        ),
      ).rejects.toThrow(message);
    });

    it('takes the last PAX path, as Go does', async () => {
      await expect(
        readChartArchive(
          tgz(
            tarEntry('demo/Chart.yaml', chartYaml),
            pax([
              ['path', 'demo/templates/a.yaml'],
              ['path', 'demo/crds/cm.yaml'],
            ]),
            tarEntry('demo/templates/b.yaml', configMapInTeamB),
          ),
        ),
      ).rejects.toThrow(/"crds\/cm.yaml" is a ConfigMap/);
    });

    it('lets a GNU long name win over a PAX path, as Go does', async () => {
      await expect(
        readChartArchive(
          tgz(
            tarEntry('demo/Chart.yaml', chartYaml),
            pax([['path', 'demo/templates/a.yaml']]),
            tarEntry('././@LongLink', 'demo/crds/cm.yaml\0', 'L'),
            tarEntry('demo/templates/b.yaml', configMapInTeamB),
          ),
        ),
      ).rejects.toThrow(/"crds\/cm.yaml" is a ConfigMap/);
    });

    it('drops a PAX path a global header follows, as Go does', async () => {
      await expect(
        readChartArchive(
          tgz(
            tarEntry('demo/Chart.yaml', chartYaml),
            pax([['path', 'demo/templates/a.yaml']]),
            tarEntry('demo/GlobalHead', '', 'g'),
            tarEntry('demo/crds/cm.yaml', configMapInTeamB),
          ),
        ),
      ).rejects.toThrow(/"crds\/cm.yaml" is a ConfigMap/);
    });

    it('reads the prefix field only in POSIX headers, as Go does', async () => {
      // GNU headers have no prefix: Go reads "demo/crds/cm.yaml" here.
      await expect(
        readChartArchive(
          tgz(
            tarEntry('demo/Chart.yaml', chartYaml),
            tarEntry('demo/crds/cm.yaml', configMapInTeamB, '0', {
              magic: 'ustar  \0',
              prefix: 'demo/other',
            }),
          ),
        ),
      ).rejects.toThrow(/GNU tar header with data in its prefix field/);
      // Old (v7) headers: no prefix either.
      await expect(
        readChartArchive(
          tgz(
            tarEntry('demo/Chart.yaml', chartYaml),
            tarEntry('demo/crds/cm.yaml', configMapInTeamB, '0', {
              magic: '\0\0\0\0\0\0\0\0',
              prefix: 'demo/other',
            }),
          ),
        ),
      ).rejects.toThrow(/"crds\/cm.yaml" is a ConfigMap/);
      // POSIX: the prefix counts.
      await expect(
        readChartArchive(
          tgz(
            tarEntry('demo/Chart.yaml', chartYaml),
            tarEntry('crds/cm.yaml', configMapInTeamB, '0', { prefix: 'demo' }),
          ),
        ),
      ).rejects.toThrow(/"crds\/cm.yaml" is a ConfigMap/);
    });
  });

  it('accepts every example chart but escape-crds, as helm packages them', async () => {
    const examples = resolve(__dirname, '../../../../../examples/charts');
    const work = mkdtempSync(join(tmpdir(), 'kd-examples-'));
    try {
      const names = readdirSync(examples, { withFileTypes: true })
        .filter(entry => entry.isDirectory())
        .map(entry => entry.name)
        .sort();
      expect(names).toEqual(expect.arrayContaining(['escape-crds', 'hello']));
      const outcomes: Record<string, unknown> = {};
      for (const name of names) {
        await runHelm([
          'package',
          join(examples, name),
          '--destination',
          join(work, name),
        ]);
        const [file] = readdirSync(join(work, name));
        outcomes[name] = await readChartArchive(
          readFileSync(join(work, name, file)),
        ).then(
          chart => ({ name: chart.metadata.name, crds: chart.metadata.crds }),
          (error: Error) => `${error.name}: ${error.message}`,
        );
      }
      const expected: Record<string, unknown> = Object.fromEntries(
        names.map(name => [name, { name, crds: [] }]),
      );
      expected['escape-crds'] = expect.stringMatching(
        /^InputError: document 1 of the chart file "crds\/cm.yaml" is a ConfigMap \(v1\), not a CustomResourceDefinition/,
      );
      expect(outcomes).toEqual(expected);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { requireLocalStack } from '../../__testUtils__/localStack';
import { readChartArchive } from './readChartArchive';

/** A minimal tar writer, so hostile archives can be built byte by byte. */
function tarEntry(name: string, content: string | Buffer, type = '0'): Buffer {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
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
});

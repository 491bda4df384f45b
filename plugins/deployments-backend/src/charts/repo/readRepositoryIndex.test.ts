import { InputError } from '@backstage/errors';
import { parse } from 'yaml';
import {
  findChartSection,
  readRepositoryIndex,
  RepositoryIndexLimits,
} from './readRepositoryIndex';

const DIGEST = 'ab'.repeat(32);

/** An index the way `helm repo index` writes it. */
function helmIndex(charts: Record<string, string[]>, extra = ''): string {
  let text = 'apiVersion: v1\nentries:\n';
  for (const [name, versions] of Object.entries(charts)) {
    text += `  ${name}:\n`;
    for (const version of versions) {
      text +=
        `  - apiVersion: v2\n    appVersion: 1.27.0\n` +
        `    created: "2026-01-01T00:00:00.000000000Z"\n` +
        `    description: A chart whose description runs on\n      to a second line\n` +
        `    digest: ${DIGEST}\n    name: ${name}\n    type: application\n` +
        `    urls:\n    - ${name}-${version}.tgz\n    version: ${version}\n`;
    }
  }
  return `${text}${extra}generated: "2026-01-01T00:00:00Z"\n`;
}

const read = (text: string, chart: string, limits?: RepositoryIndexLimits) =>
  readRepositoryIndex(Buffer.from(text), chart, limits);

describe('readRepositoryIndex', () => {
  it("reads one chart's entries from Helm's layout, as a full parse would", () => {
    const text = helmIndex({
      alpha: ['1.0.0'],
      hello: ['0.2.0', '0.1.0'],
      zeta: ['3.0.0'],
    });
    const entries = read(text, 'hello');
    expect(entries).toEqual([
      {
        name: 'hello',
        version: '0.2.0',
        digest: DIGEST,
        urls: ['hello-0.2.0.tgz'],
      },
      {
        name: 'hello',
        version: '0.1.0',
        digest: DIGEST,
        urls: ['hello-0.1.0.tgz'],
      },
    ]);
    const full = parse(text).entries.hello;
    expect(entries!.map(e => e.version)).toEqual(
      full.map((e: { version: string }) => e.version),
    );
    expect(read(text, 'zeta')!.map(e => e.version)).toEqual(['3.0.0']);
    expect(read(text, 'missing')).toBeUndefined();
  });

  it('keeps versions as written (strings, as Helm reads them)', () => {
    const text =
      'apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0\n    urls: [app-1.0.tgz]\n  - name: app\n    version: 1.10\n    urls: [app-1.10.tgz]\n';
    expect(read(text, 'app')!.map(e => e.version)).toEqual(['1.0', '1.10']);
  });

  it('reads JSON indexes and other YAML layouts whole', () => {
    const json = JSON.stringify({
      apiVersion: 'v1',
      entries: { hello: [{ version: '0.1.0', urls: ['x.tgz'] }] },
    });
    expect(read(json, 'hello')).toEqual([
      { version: '0.1.0', urls: ['x.tgz'] },
    ]);
    const flow =
      "{apiVersion: v1, entries: {hello: [{version: '0.1.0', urls: [x.tgz]}]}}";
    expect(read(flow, 'hello')).toEqual([
      { version: '0.1.0', urls: ['x.tgz'] },
    ]);
    const anchored =
      'apiVersion: v1\nentries:\n  ? hello\n  : - &v {version: 0.1.0, urls: [x.tgz]}\n    - *v\n';
    expect(findChartSection(anchored, 'hello')).toBeUndefined();
    expect(read(anchored, 'hello')).toHaveLength(2);
    expect(read('apiVersion: v1\nentries: {}\n', 'hello')).toBeUndefined();
    expect(read('apiVersion: v1\nentries:\n', 'hello')).toBeUndefined();
  });

  it('never finds a chart in the prototype', () => {
    expect(read(helmIndex({ hello: ['0.1.0'] }), 'constructor')).toBe(
      undefined,
    );
    expect(read('{"entries": {"hello": []}}', 'constructor')).toBeUndefined();
  });

  it('normalizes readable digests and keeps others for the download to refuse', () => {
    const text = (digest: string) =>
      `entries:\n  a:\n  - version: 1.0.0\n    digest: ${digest}\n    urls: [a.tgz]\n`;
    expect(read(text(`sha256:${'AB'.repeat(32)}`), 'a')![0].digest).toBe(
      DIGEST,
    );
    expect(read(text('md5:abc'), 'a')![0].digest).toBe('md5:abc');
  });

  it('skips entries Helm would skip', () => {
    const text =
      'entries:\n  a:\n  - version: 1.0.0\n    urls: [a.tgz]\n  - urls: [b.tgz]\n  - just a string\n';
    expect(read(text, 'a')).toEqual([{ version: '1.0.0', urls: ['a.tgz'] }]);
  });

  it('refuses what is not an index', () => {
    expect(() => read('<html>not found</html>', 'a')).toThrow(
      /no "entries" map/,
    );
    expect(() => read('entries: [a, b]\n', 'a')).toThrow(/no "entries" map/);
    expect(() => read('entries:\n  a: {x: 1}\n', 'a')).toThrow(
      /list of versions/,
    );
    expect(() => read('entries: {a: [\n', 'a')).toThrow(/not valid YAML/);
  });

  it('refuses alias bombs', () => {
    let bomb = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 8; i++) {
      bomb += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    }
    expect(() => read(`${bomb}entries: {}\n`, 'a')).toThrow(InputError);
  });

  it("caps what is parsed: a large index is read by its chart's section", () => {
    const charts: Record<string, string[]> = {};
    for (let i = 0; i < 400; i++) {
      charts[`chart-${i}`] = ['1.0.0', '1.1.0', '1.2.0'];
    }
    const text = helmIndex(charts);
    const limits = { maxParseBytes: 64 * 1024, maxVersions: 2 };
    expect(text.length).toBeGreaterThan(limits.maxParseBytes);
    expect(() => read(text, 'chart-399', limits)).toThrow(
      /more than 2 versions/,
    );
    expect(read(text, 'chart-399', { ...limits, maxVersions: 3 })).toHaveLength(
      3,
    );
    // The same index in another layout is refused rather than parsed whole.
    expect(() =>
      read(
        text.replace('entries:\n', 'entries: # \n  ? x\n  : []\n'),
        'a',
        limits,
      ),
    ).toThrow(/layout other than Helm's/);
    const huge = helmIndex({ big: Array(300).fill('1.0.0') });
    expect(() => read(huge, 'big', limits)).toThrow(/section for big/);
  });

  it('reads a 20 MiB index quickly, with duplicate keys left unchecked', () => {
    const charts: Record<string, string[]> = {};
    let size = 0;
    for (let i = 0; size < 20 * 1024 * 1024; i++) {
      charts[`chart-${i}`] = ['1.0.0', '1.1.0'];
      size += 800;
    }
    const text = helmIndex(charts);
    const started = Date.now();
    expect(read(text, 'chart-5')).toHaveLength(2);
    expect(read(text, 'missing')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3000);
    // 40 000 distinct keys: quadratic with `yaml`'s duplicate-key check.
    const keys = `entries: {${Array.from(
      { length: 40_000 },
      (_, i) => `c${i}: []`,
    ).join(', ')}, hello: [{version: 1.0.0}]}`;
    const flowStarted = Date.now();
    expect(read(keys, 'hello')).toEqual([{ version: '1.0.0', urls: [] }]);
    expect(Date.now() - flowStarted).toBeLessThan(5000);
  });
});

describe('findChartSection', () => {
  it('answers the section, absent, or undefined for other layouts', () => {
    const text = helmIndex({ a: ['1.0.0'], b: ['2.0.0'] });
    expect(findChartSection(text, 'a')).toMatch(/^ {2}a:\n {2}- apiVersion/);
    expect(findChartSection(text, 'a')).not.toContain('2.0.0');
    expect(findChartSection(text, 'b')).toMatch(/version: 2\.0\.0\n$/);
    expect(findChartSection(text, 'c')).toBe('absent');
    expect(findChartSection(text.replace(/\n/g, '\r\n'), 'b')).toMatch(
      /^ {2}b:/,
    );
    expect(findChartSection(`${text}---\n${text}`, 'a')).toBeUndefined();
    expect(findChartSection(text.replace('  b:', '\tb:'), 'a')).toBeUndefined();
    expect(findChartSection(text.replace('  b:', '  a:'), 'a')).toBeUndefined();
    expect(findChartSection(text.replace('  b:', '  "b":'), 'b')).toMatch(
      /^ {2}"b":/,
    );
    expect(
      findChartSection(text.replace('  b:', '  &x b:'), 'b'),
    ).toBeUndefined();
    expect(findChartSection('apiVersion: v1\n', 'a')).toBeUndefined();
  });
});

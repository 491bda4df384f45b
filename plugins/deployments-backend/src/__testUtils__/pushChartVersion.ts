import {
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStack, runHelm } from './localStack';

const EXAMPLES = join(__dirname, '../../../../examples/charts');

/** The files of a chart a test may change before it is packaged. */
export interface ChartFiles {
  values: string;
  schema: Record<string, any>;
  /** Template file name → content. */
  templates: Record<string, string>;
}

/**
 * Packages an example chart under another name and version, changed by
 * `edit`, and pushes it to the local stack's open OCI registry, so that a
 * test gets versions of one chart that differ the way it needs.
 */
export async function pushChartVersion(options: {
  stack: LocalStack;
  example: string;
  name: string;
  version: string;
  edit?: (files: ChartFiles) => ChartFiles;
}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kd-chart-'));
  try {
    const chartDir = join(dir, options.name);
    cpSync(join(EXAMPLES, options.example), chartDir, { recursive: true });
    writeFileSync(
      join(chartDir, 'Chart.yaml'),
      readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')
        .replace(/^name: .*$/m, `name: ${options.name}`)
        .replace(/^version: .*$/m, `version: ${options.version}`),
    );
    const templatesDir = join(chartDir, 'templates');
    const files: ChartFiles = {
      values: readFileSync(join(chartDir, 'values.yaml'), 'utf8'),
      schema: JSON.parse(
        readFileSync(join(chartDir, 'values.schema.json'), 'utf8'),
      ),
      templates: Object.fromEntries(
        readdirSync(templatesDir).map(file => [
          file,
          readFileSync(join(templatesDir, file), 'utf8'),
        ]),
      ),
    };
    const edited = options.edit ? options.edit(files) : files;
    writeFileSync(join(chartDir, 'values.yaml'), edited.values);
    writeFileSync(
      join(chartDir, 'values.schema.json'),
      JSON.stringify(edited.schema, null, 2),
    );
    for (const [file, content] of Object.entries(edited.templates)) {
      writeFileSync(join(templatesDir, file), content);
    }
    await runHelm(['package', chartDir, '-d', dir]);
    const archive = readdirSync(dir).find(f => f.endsWith('.tgz'))!;
    await runHelm([
      'push',
      join(dir, archive),
      `oci://${options.stack.registry}/charts`,
      '--plain-http',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

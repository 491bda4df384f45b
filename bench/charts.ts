/*
 * Chart registration benchmark: registering a chart version (manifest, chart
 * layer download and digest check, archive read with limits, database insert)
 * against what a person does by hand, `helm pull` + `helm show chart`, on the
 * same chart from the same local registry, in one run.
 *
 * Needs the local stack:  scripts/stack up && eval "$(scripts/stack env)"
 * Run from the repository root (see bench/README.md):
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/charts.ts
 *
 * Not a test: it only prints timings.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import { ChartService } from '../plugins/deployments-backend/src/charts/ChartService';
import { DatabaseChartStore } from '../plugins/deployments-backend/src/charts/DatabaseChartStore';

const RUNS = 15;
const registry = process.env.KUBEDEPLOY_REGISTRY;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  if (!registry) {
    throw new Error('run scripts/stack up and eval "$(scripts/stack env)" first');
  }
  const reference = `oci://${registry}/charts/hello`;
  const helmHome = mkdtempSync(join(tmpdir(), 'kd-bench-helm-'));
  const helmEnv = {
    ...process.env,
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };

  const byHand: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const destination = mkdtempSync(join(helmHome, 'pull-'));
    const start = performance.now();
    execFileSync('helm', ['pull', reference, '--version', '0.1.0', '--plain-http', '--destination', destination], { env: helmEnv, stdio: 'pipe' });
    execFileSync('helm', ['show', 'chart', join(destination, 'hello-0.1.0.tgz')], { env: helmEnv, stdio: 'pipe' });
    byHand.push(performance.now() - start);
  }

  const ours: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // A fresh database each time, so every run really registers.
    const db = knexFactory({ client: 'better-sqlite3', connection: ':memory:', useNullAsDefault: true });
    await db.migrate.latest({ directory: join(__dirname, '../plugins/deployments-backend/migrations') });
    const charts = ChartService.create({
      store: DatabaseChartStore.create(db),
      checkUrl: async () => undefined,
      allowPlainHttp: () => true,
    });
    const start = performance.now();
    await charts.register({ reference, version: '0.1.0' }, 'user:default/bench');
    ours.push(performance.now() - start);
    await db.destroy();
  }
  rmSync(helmHome, { recursive: true, force: true });

  const a = median(ours);
  const b = median(byHand);
  console.log(`chart registration bench: hello 0.1.0 from ${registry}, ${RUNS} runs each`);
  console.log(`register through ChartService (fetch, verify, read, store): median ${a.toFixed(1)} ms`);
  console.log(`helm pull + helm show chart:                                median ${b.toFixed(1)} ms`);
  console.log(`ratio: registration takes ${(a / b).toFixed(2)}x the time of helm pull + show chart`);
}

main().catch(error => {
  console.error(error.message);
  process.exit(1);
});

/*
 * Release plan benchmark, in one run against the real plugin (started
 * in-process with startTestBackend, real database) and the local stack:
 *
 *   apply    POST /plans/{id}/apply until the operation succeeded, against the
 *            same `helm upgrade --install --rollback-on-failure --wait=watcher`
 *            run by hand with the same chart archive and values; alternating
 *            rounds, a new value each round so every apply is a real upgrade.
 *   dry-run  POST /plans/{id}/dry-run against `helm upgrade --install
 *            --dry-run=server` by hand.
 *   list     GET /plans?limit=100 (first page, a deep offset, an entityRef
 *            filter) with 1k and 100k rows inserted straight into
 *            deployments_plans.
 *
 * Needs the local stack:  scripts/stack up && eval "$(scripts/stack env)"
 * Run from the repository root (see bench/README.md):
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/plans.ts
 *
 * Environment: BENCH_PLANS_PARTS (apply,dry-run,list), BENCH_PLANS_ROUNDS (5),
 * BENCH_PLANS_LIST_SIZES (1000,100000), BENCH_PLANS_LIST_REQUESTS (40),
 * BENCH_PLANS_WHAT_IF (1: re-time the list with the missing index added to the
 * bench database only; 0 to skip), BENCH_DATABASE (postgres | sqlite;
 * postgres when the stack is up).
 *
 * Not a test: it only prints timings. Releases are named bench-* and are
 * uninstalled at the end; the benchmark's database is dropped.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Knex } from 'knex';
import {
  readLocalStack,
  runHelm,
} from '../plugins/deployments-backend/src/__testUtils__/localStack';
import {
  BenchApi,
  BenchBackend,
  createBenchDatabase,
  createPlan,
  startBenchBackend,
  prepareDeployments,
  uninstallReleases,
} from './lib/backend';
import {
  envInt,
  machineLine,
  median,
  ms,
  percentile,
  ratio,
} from './lib/stats';

const PARTS = (process.env.BENCH_PLANS_PARTS ?? 'apply,dry-run,list').split(
  ',',
);
const ROUNDS = envInt('BENCH_PLANS_ROUNDS', 5);
const LIST_SIZES = (process.env.BENCH_PLANS_LIST_SIZES ?? '1000,100000')
  .split(',')
  .map(Number);
const LIST_REQUESTS = envInt('BENCH_PLANS_LIST_REQUESTS', 40);
const LIST_WARM_UP = 3;
const INSERT_BATCH = 1000;
// Every entity owns this many plans at every table size, so the entityRef
// query returns the same page whatever the table holds.
const PLANS_PER_ENTITY = 50;
const NAMESPACE = 'team-a';

const suffix = randomBytes(3).toString('hex');

interface HandRun {
  archive: string;
  valuesFile: string;
  kubeconfig: string;
}

function helmUpgradeArgs(release: string, hand: HandRun, extra: string[]) {
  // The flags the plugin passes too (history, timeout), minus --debug and
  // --output=json, which a person would not type.
  return [
    'upgrade',
    '--install',
    release,
    hand.archive,
    `--values=${hand.valuesFile}`,
    `--namespace=${NAMESPACE}`,
    '--history-max=10',
    '--timeout=120s',
    ...extra,
  ];
}

async function timeHelm(args: string[], kubeconfig: string): Promise<number> {
  const start = performance.now();
  await runHelm(args, { kubeconfig, timeoutMs: 300_000 });
  return performance.now() - start;
}

async function setValues(
  api: BenchApi,
  profileId: string,
  hand: HandRun,
  values: Record<string, unknown>,
) {
  await api.expect(200, 'PUT', `/profiles/${profileId}`, { values });
  writeFileSync(hand.valuesFile, JSON.stringify(values));
}

async function benchApply(
  api: BenchApi,
  ids: { planId: string; profileId: string },
  hand: HandRun,
  handRelease: string,
) {
  const ours: number[] = [];
  const server: number[] = [];
  const cycle: number[] = [];
  const byHand: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const values = { greeting: `bench round ${round} ${suffix}` };
    const runApi = async () => {
      const start = performance.now();
      await setValues(api, ids.profileId, hand, values);
      await api.runStep(ids.planId, 'dry-run');
      await api.runStep(ids.planId, 'preflight');
      const { operation, ms: applyMs } = await api.runStep(ids.planId, 'apply');
      cycle.push(performance.now() - start);
      ours.push(applyMs);
      server.push(operation.durationMs);
    };
    const runHand = async () => {
      writeFileSync(hand.valuesFile, JSON.stringify(values));
      byHand.push(
        await timeHelm(
          helmUpgradeArgs(handRelease, hand, [
            '--rollback-on-failure',
            '--wait=watcher',
          ]),
          hand.kubeconfig,
        ),
      );
    };
    // Alternate who goes first, so neither always meets a warmer cluster.
    if (round % 2) {
      await runApi();
      await runHand();
    } else {
      await runHand();
      await runApi();
    }
  }
  const a = median(ours);
  const b = median(byHand);
  console.log(
    `\napply: hello 0.1.0 upgrade with a changed value, ${ROUNDS} alternating rounds`,
  );
  console.log(
    `  API  POST apply -> operation succeeded:           median ${ms(
      a,
    )}  (min ${ms(Math.min(...ours))}, max ${ms(
      Math.max(...ours),
    )}; operation durationMs median ${ms(median(server))})`,
  );
  console.log(
    `  hand helm upgrade --install --rollback-on-failure --wait=watcher: median ${ms(
      b,
    )}  (min ${ms(Math.min(...byHand))}, max ${ms(Math.max(...byHand))})`,
  );
  console.log(
    `  ratio: an apply through the API takes ${ratio(
      a,
      b,
    )} the time of helm by hand (median/median)`,
  );
  console.log(
    `  whole change through the API (PUT profile, dry-run, preflight, apply): median ${ms(
      median(cycle),
    )}, ${ratio(median(cycle), b)} of helm by hand`,
  );
}

async function benchDryRun(
  api: BenchApi,
  planId: string,
  hand: HandRun,
  handRelease: string,
) {
  const ours: number[] = [];
  const server: number[] = [];
  const byHand: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const runApi = async () => {
      const { operation, ms: elapsed } = await api.runStep(planId, 'dry-run');
      ours.push(elapsed);
      server.push(operation.durationMs);
    };
    const runHand = async () => {
      byHand.push(
        await timeHelm(
          helmUpgradeArgs(handRelease, hand, ['--dry-run=server']),
          hand.kubeconfig,
        ),
      );
    };
    if (round % 2) {
      await runApi();
      await runHand();
    } else {
      await runHand();
      await runApi();
    }
  }
  const a = median(ours);
  const b = median(byHand);
  console.log(
    `\ndry-run: hello 0.1.0 against the deployed release, ${ROUNDS} alternating rounds`,
  );
  console.log(
    `  API  POST dry-run -> operation succeeded: median ${ms(
      a,
    )}  (operation durationMs median ${ms(median(server))})`,
  );
  console.log(
    `  hand helm upgrade --install --dry-run=server: median ${ms(b)}`,
  );
  console.log(
    `  ratio: a dry-run through the API takes ${ratio(
      a,
      b,
    )} the time of helm by hand (median/median)`,
  );
}

/** Fills deployments_plans with `count` bench-list rows (replacing earlier ones). */
async function fillPlans(
  backend: BenchBackend,
  ref: { chartId: string; targetId: string },
  count: number,
) {
  const { knex, kind } = backend.database;
  await knex('deployments_plans')
    .where('release_name', 'like', 'bench-list-%')
    .delete();
  const now = new Date().toISOString();
  const entities = Math.max(1, Math.floor(count / PLANS_PER_ENTITY));
  for (let start = 0; start < count; start += INSERT_BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + INSERT_BATCH); i++) {
      const gate = JSON.stringify({
        operationId: randomUUID(),
        passed: true,
        inputsHash: `sha256:${randomBytes(32).toString('hex')}`,
        planRevision: 1,
        at: now,
      });
      rows.push({
        id: randomUUID(),
        entity_ref: `component:default/bench-list-${i % entities}`,
        entity_owner: `group:default/team-${i % 40}`,
        chart_id: ref.chartId,
        target_id: ref.targetId,
        target_name: 'local',
        namespace: NAMESPACE,
        release_name: `bench-list-${i}`,
        options: JSON.stringify({
          timeoutSeconds: 300,
          historyMax: 10,
          createNamespace: false,
          runTests: false,
        }),
        revision: 1,
        status: 'deployed',
        status_message: 'revision 1',
        status_changed_at: now,
        status_changed_by: 'user:default/bench',
        last_dry_run: gate,
        last_preflight: gate,
        created_at: now,
        created_by: 'user:default/bench',
        updated_at: now,
        updated_by: 'user:default/bench',
      });
    }
    // SQLite allows 32766 bound values per statement: 20 columns x 500 rows.
    for (
      let i = 0;
      i < rows.length;
      i += kind === 'sqlite' ? 500 : rows.length
    ) {
      await knex('deployments_plans').insert(
        rows.slice(i, i + (kind === 'sqlite' ? 500 : rows.length)),
      );
    }
  }
  if (kind === 'postgres') {
    // As a settled table would be, and so autovacuum does not start mid-run.
    await knex.raw('vacuum analyze deployments_plans');
  }
}

/** The query plan of the list page query, one node per line, costs removed. */
async function explainList(
  backend: BenchBackend,
  offset: number,
): Promise<string[]> {
  const { knex, kind } = backend.database;
  const query = knex('deployments_plans')
    .select()
    .orderBy([
      { column: 'entity_ref' },
      { column: 'release_name' },
      { column: 'id' },
    ])
    .limit(100)
    .offset(offset)
    .toSQL();
  if (kind === 'postgres') {
    const result = await knex.raw(
      `explain (analyze, costs off, timing off) ${query.sql}`,
      query.bindings as Knex.Value[],
    );
    return result.rows
      .map((r: Record<string, string>) => r['QUERY PLAN'].trim())
      .filter((line: string) =>
        /->|^Limit|Sort Method|Execution Time/.test(line),
      );
  }
  const rows = await knex.raw(
    `explain query plan ${query.sql}`,
    query.bindings as Knex.Value[],
  );
  return rows.map((r: { detail: string }) => r.detail);
}

const LIST_QUERIES = [
  'first page',
  'deep offset',
  'entityRef',
  'deep cursor',
] as const;

/** Times the three list queries at the current table size; returns their p95s. */
async function timeListQueries(
  backend: BenchBackend,
  size: number,
): Promise<number[]> {
  // The same deep page by key: the cursor of the row before it.
  const before = await backend.api.call(
    'GET',
    `/plans?limit=1&offset=${size - 201}`,
  );
  const paths = [
    '/plans?limit=100',
    `/plans?limit=100&offset=${size - 200}`,
    `/plans?limit=100&entityRef=${encodeURIComponent(
      'component:default/bench-list-7',
    )}`,
    `/plans?limit=100&after=${encodeURIComponent(before.body.nextCursor)}`,
  ];
  const labels = [
    'first page',
    `offset ${(size - 200).toLocaleString('en-US')}`,
    `entityRef (${PLANS_PER_ENTITY} rows)`,
    `after= (same page)`,
  ];
  const p95s: number[] = [];
  for (const [index, path] of paths.entries()) {
    const samples: number[] = [];
    let items = 0;
    for (let i = 0; i < LIST_WARM_UP + LIST_REQUESTS; i++) {
      const t = performance.now();
      const answer = await backend.api.call('GET', path);
      const elapsed = performance.now() - t;
      if (answer.status !== 200) {
        throw new Error(
          `GET ${path}: ${answer.status} ${answer.body.error?.message}`,
        );
      }
      items = answer.body.items.length;
      if (i >= LIST_WARM_UP) samples.push(elapsed);
    }
    p95s.push(percentile(samples, 95));
    console.log(
      `    ${labels[index].padEnd(24)} p50 ${ms(
        percentile(samples, 50),
      ).padStart(8)}  p95 ${ms(percentile(samples, 95)).padStart(
        8,
      )}  (${items} items)`,
    );
  }
  return p95s;
}

/** Median time of a database query run directly (no HTTP), after one warm-up. */
async function timeQuery(
  run: () => Promise<unknown>,
  runs = 10,
): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

/**
 * What each list request costs in the database itself, at the largest size:
 * the page and count(*) queries the plugin runs for each of the three list
 * requests, then the deep page with an index on the sort order and by keyset
 * (rows after the last row of the previous page). The index is added to this
 * benchmark's own database only and dropped again.
 */
async function whatIf(backend: BenchBackend, size: number) {
  const { knex, kind } = backend.database;
  const order = [
    { column: 'entity_ref' },
    { column: 'release_name' },
    { column: 'id' },
  ];
  const offset = size - 200;
  const entityRef = 'component:default/bench-list-7';
  const page = (at: number) => () =>
    knex('deployments_plans').select().orderBy(order).limit(100).offset(at);
  const analyze = async () => {
    if (kind === 'postgres') await knex.raw('analyze deployments_plans');
  };
  const firstPage = await timeQuery(page(0));
  const deepPage = await timeQuery(page(offset));
  const countAll = await timeQuery(() =>
    knex('deployments_plans').count({ count: '*' }),
  );
  const entityPage = await timeQuery(() =>
    knex('deployments_plans')
      .where({ entity_ref: entityRef })
      .select()
      .orderBy(order)
      .limit(100),
  );
  const entityCount = await timeQuery(() =>
    knex('deployments_plans')
      .where({ entity_ref: entityRef })
      .count({ count: '*' }),
  );
  await knex.schema.alterTable('deployments_plans', table => {
    table.index(
      ['entity_ref', 'release_name', 'id'],
      'bench_what_if_plans_order',
    );
  });
  await analyze();
  const withIndex = await timeQuery(page(offset));
  const last = await knex('deployments_plans')
    .select('entity_ref', 'release_name', 'id')
    .orderBy(order)
    .offset(offset - 1)
    .first();
  const keyset = () =>
    knex('deployments_plans')
      .select()
      .whereRaw('(entity_ref, release_name, id) > (?, ?, ?)', [
        last.entity_ref,
        last.release_name,
        last.id,
      ])
      .orderBy(order)
      .limit(100);
  const byKeyset = await timeQuery(keyset);
  const same =
    JSON.stringify((await page(offset)()).map(r => r.id)) ===
    JSON.stringify((await keyset()).map(r => r.id));
  await knex.schema.alterTable('deployments_plans', table => {
    table.dropIndex(
      ['entity_ref', 'release_name', 'id'],
      'bench_what_if_plans_order',
    );
  });
  await analyze();
  const n = size.toLocaleString('en-US');
  console.log(
    `  in the database at ${n} rows (queries run straight through knex, median of 10):`,
  );
  console.log(
    `    first page:  page query ${ms(firstPage)} + count(*) of all rows ${ms(
      countAll,
    )}`,
  );
  console.log(
    `    entityRef:   page query ${ms(entityPage)} + count(*) of its rows ${ms(
      entityCount,
    )}`,
  );
  console.log(
    `    offset ${offset.toLocaleString('en-US')}: page query ${ms(
      deepPage,
    )} + count(*) of all rows ${ms(countAll)}`,
  );
  console.log(
    `  what-if for the deep page (bench database only; the plugin is unchanged):`,
  );
  console.log(
    `    OFFSET with an index on (entity_ref, release_name, id):  ${ms(
      withIndex,
    )} (${ratio(withIndex, deepPage)} of now${
      withIndex / deepPage > 0.5
        ? '; the planner still sorts: an index alone does not fix deep offsets'
        : ''
    })`,
  );
  console.log(
    `    keyset, (entity_ref, release_name, id) > the last row seen, with that index: ${ms(
      byKeyset,
    )} (${(deepPage / byKeyset).toFixed(0)}x faster; same rows: ${
      same ? 'yes' : 'NO'
    })`,
  );
  console.log(
    '    Fix to make (not applied): a migration adding that index; keyset pagination (a cursor after the last',
  );
  console.log(
    '    (entity_ref, release_name, id)) in the list API and UI instead of deep offsets; totalCount only on',
  );
  console.log('    request, or capped, instead of a count(*) on every page.');
}

async function benchList(
  backend: BenchBackend,
  ref: { chartId: string; targetId: string },
) {
  console.log(
    `\nlist: GET /plans?limit=100, ${LIST_REQUESTS} requests per query after ${LIST_WARM_UP} warm-up, rows inserted straight into deployments_plans`,
  );
  const p95BySize: number[][] = [];
  const largest = LIST_SIZES[LIST_SIZES.length - 1];
  for (const size of LIST_SIZES) {
    const start = performance.now();
    await fillPlans(backend, ref, size);
    console.log(
      `  ${size.toLocaleString('en-US')} rows (inserted in ${ms(
        performance.now() - start,
      )}):`,
    );
    p95BySize.push(await timeListQueries(backend, size));
  }
  for (const offset of [0, largest - 200]) {
    console.log(
      `    query plan of the page query at offset ${offset} (${backend.database.kind}):`,
    );
    for (const line of await explainList(backend, offset)) {
      console.log(`      ${line}`);
    }
  }
  if (LIST_SIZES.length > 1) {
    const small = LIST_SIZES[0].toLocaleString('en-US');
    const large = largest.toLocaleString('en-US');
    const ratios = LIST_QUERIES.map(
      (_, i) => p95BySize[p95BySize.length - 1][i] / p95BySize[0][i],
    );
    console.log(
      `  ratio p95 ${large}/${small} rows: ${LIST_QUERIES.map(
        (n, i) => `${n} ${ratios[i].toFixed(2)}x`,
      ).join(', ')}`,
    );
    const grows = LIST_QUERIES.filter((_, i) => ratios[i] > 3);
    if (grows.length > 0) {
      console.log(
        `  PROBLEM: p95 grows more than 3x for ${
          largest / LIST_SIZES[0]
        }x rows (${grows.join(
          ', ',
        )}). The list orders by (entity_ref, release_name, id)`,
      );
      console.log(
        '  with OFFSET: the database sorts every row up to offset+limit on each request (whole rows, spilling to',
      );
      console.log(
        '  disk; see the query plan), and each page also counts all matching rows for totalCount. Where the',
      );
      console.log(
        '  time goes in the database, and the fix, below; growth the database figures do not explain is the',
      );
      console.log('  machine (other work on its 2 cores), not the query.');
      console.log(
        '  Deep pages belong to after= (keyset on the list index): compare the "after=" line.',
      );
    }
  }
  if (process.env.BENCH_PLANS_WHAT_IF !== '0') {
    await whatIf(backend, largest);
  }
  await backend.database
    .knex('deployments_plans')
    .where('release_name', 'like', 'bench-list-%')
    .delete();
}

async function main() {
  const stack = readLocalStack();
  if (!stack) {
    throw new Error(
      'run scripts/stack up and eval "$(scripts/stack env)" first',
    );
  }
  console.log(machineLine('plans bench'));
  const database = await createBenchDatabase('plans');
  console.log(
    `database: ${database.label}; backend in this process (startTestBackend)`,
  );
  const backend = await startBenchBackend({ database });
  const { api } = backend;
  const apiRelease = `bench-plan-api-${suffix}`;
  const handRelease = `bench-plan-hand-${suffix}`;
  const workDir = mkdtempSync(join(tmpdir(), 'kd-bench-plans-'));
  const installed: string[] = [];
  try {
    const ref = await prepareDeployments(api, stack);
    if (PARTS.includes('apply') || PARTS.includes('dry-run')) {
      // The archive the plugin stored at registration: the very same bytes.
      const row = await database
        .knex('deployments_charts')
        .where({ id: ref.chartId })
        .first('archive');
      const hand: HandRun = {
        archive: join(workDir, 'hello-0.1.0.tgz'),
        valuesFile: join(workDir, 'values.json'),
        kubeconfig: stack.adminKubeconfigPath,
      };
      writeFileSync(hand.archive, row.archive);
      const values = { greeting: `bench install ${suffix}` };
      writeFileSync(hand.valuesFile, JSON.stringify(values));
      const ids = await createPlan(api, {
        chartId: ref.chartId,
        releaseName: apiRelease,
        values,
      });
      // First installs, not timed: every timed apply is an upgrade.
      installed.push(apiRelease, handRelease);
      await api.runStep(ids.planId, 'dry-run');
      await api.runStep(ids.planId, 'preflight');
      await api.runStep(ids.planId, 'apply');
      await timeHelm(
        helmUpgradeArgs(handRelease, hand, [
          '--rollback-on-failure',
          '--wait=watcher',
        ]),
        hand.kubeconfig,
      );
      if (PARTS.includes('apply')) {
        await benchApply(api, ids, hand, handRelease);
      }
      if (PARTS.includes('dry-run')) {
        await benchDryRun(api, ids.planId, hand, handRelease);
      }
    }
    if (PARTS.includes('list')) {
      // The API names targets; the foreign key needs the row id.
      const target = await database
        .knex('deployments_targets')
        .where({ name: ref.target })
        .first('id');
      await benchList(backend, { chartId: ref.chartId, targetId: target.id });
    }
  } finally {
    await uninstallReleases(stack, installed);
    rmSync(workDir, { recursive: true, force: true });
    await backend.stop();
    console.log(
      `\ncleaned up: ${
        installed.length ? installed.join(', ') : 'no releases'
      } uninstalled, database dropped`,
    );
  }
}

main().catch(error => {
  // Database errors quote whole statements; the first line says enough.
  console.error(`plans bench failed: ${String(error.message).slice(0, 500)}`);
  process.exit(1);
});

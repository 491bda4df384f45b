/*
 * Dry-run and apply through the render guard, against helm by hand, for a
 * small and a larger chart, in one run against the real plugin (started
 * in-process with startTestBackend, real database) and the local stack:
 *
 *   dry-run  POST /plans/{id}/dry-run until the operation succeeded (helm
 *            renders client-side through the post-render guard, then the
 *            backend checks the objects and diffs against the release)
 *            against `helm upgrade --install --dry-run=server` by hand.
 *   apply    POST /plans/{id}/apply until the operation succeeded (its
 *            dry-run and preflight done just before, not timed) against
 *            `helm upgrade --install --rollback-on-failure --wait=watcher`
 *            by hand on a second release; a new value every round, so every
 *            apply is a real upgrade that rolls the Deployments.
 *
 * Charts: `hello` 0.1.0 (Deployment, Service, ConfigMap) and `bench-objects`
 * 0.1.0, 40 objects (10 Deployments, 10 Services, 20 ConfigMaps), generated
 * in a temporary directory and pushed to the stack's anonymous registry.
 * Both sides use the very archive the plugin stored and the same values.
 *
 * Needs the local stack:  scripts/stack up && eval "$(scripts/stack env)"
 * Run from the repository root (see bench/README.md):
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/dryrun.ts
 *
 * Environment: BENCH_DRYRUN_CHARTS (hello,objects), BENCH_DRYRUN_PARTS
 * (dry-run,apply), BENCH_DRYRUN_ROUNDS (5), BENCH_DRYRUN_TIMELINE (1: print
 * the progress lines of one API dry-run and apply with their times; 0 to
 * skip), BENCH_DATABASE (postgres | sqlite; postgres when the stack is up).
 *
 * Not a test: it prints timings and the targets beside them, and
 * never fails on them. Releases are named bench-* and are uninstalled at the
 * end; the benchmark's database is dropped. The pushed bench-objects chart
 * stays in the local registry (pushing it again is harmless).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LocalStack,
  readLocalStack,
  runHelm,
} from '../plugins/deployments-backend/src/__testUtils__/localStack';
import {
  BenchApi,
  BenchDatabase,
  Json,
  createBenchDatabase,
  createPlan,
  prepareDeployments,
  startBenchBackend,
  uninstallReleases,
} from './lib/backend';
import { envInt, machineLine, median, ms, ratio } from './lib/stats';

const CHARTS = (process.env.BENCH_DRYRUN_CHARTS ?? 'hello,objects').split(',');
const PARTS = (process.env.BENCH_DRYRUN_PARTS ?? 'dry-run,apply').split(',');
const ROUNDS = envInt('BENCH_DRYRUN_ROUNDS', 5);
const TIMELINE = process.env.BENCH_DRYRUN_TIMELINE !== '0';
const NAMESPACE = 'team-a';
/** The targets, API median / helm-by-hand median. Printed, never enforced. */
const TARGETS = { 'dry-run': 1.2, apply: 1.1 } as const;

const OBJECTS_CHART = 'bench-objects';
const OBJECTS = { deployments: 10, services: 10, configMaps: 20 };

const suffix = randomBytes(3).toString('hex');

interface HandRun {
  archive: string;
  valuesFile: string;
  kubeconfig: string;
}

interface ChartUnderTest {
  /** Short name in release names and output: hello | objects. */
  key: string;
  label: string;
  chartId: string;
  objects: number;
}

interface Figures {
  chart: string;
  part: keyof typeof TARGETS;
  api: number;
  hand: number;
  /** Median of the per-round ratios. */
  paired: string;
}

/** Writes the 40-object chart: every object carries the greeting, every pod its checksum. */
function writeObjectsChart(dir: string): string {
  const chart = join(dir, OBJECTS_CHART);
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(
    join(chart, 'Chart.yaml'),
    [
      'apiVersion: v2',
      `name: ${OBJECTS_CHART}`,
      `description: ${
        OBJECTS.deployments + OBJECTS.services + OBJECTS.configMaps
      } objects for bench/dryrun.ts (generated)`,
      'type: application',
      'version: 0.1.0',
      'appVersion: "1.27.0"',
      '',
    ].join('\n'),
  );
  writeFileSync(join(chart, 'values.yaml'), 'greeting: Hello from the bench\n');
  writeFileSync(
    join(chart, 'templates', '_helpers.tpl'),
    `{{- define "objects.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
`,
  );
  writeFileSync(
    join(chart, 'templates', 'web.yaml'),
    `{{- range $i := until ${OBJECTS.deployments} }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ printf "%s-web-%d" $.Release.Name $i }}
  labels:
    {{- include "objects.labels" $ | nindent 4 }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ $.Release.Name }}
      bench/web: {{ $i | quote }}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{ $.Release.Name }}
        bench/web: {{ $i | quote }}
      annotations:
        checksum/greeting: {{ $.Values.greeting | sha256sum }}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
      containers:
        - name: web
          image: "nginxinc/nginx-unprivileged:1.27"
          ports:
            - name: http
              containerPort: 8080
          resources:
            requests:
              cpu: 10m
              memory: 16Mi
            limits:
              cpu: 100m
              memory: 64Mi
---
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "%s-web-%d" $.Release.Name $i }}
  labels:
    {{- include "objects.labels" $ | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/instance: {{ $.Release.Name }}
    bench/web: {{ $i | quote }}
  ports:
    - name: http
      port: 8080
      targetPort: http
{{- end }}
`,
  );
  writeFileSync(
    join(chart, 'templates', 'config.yaml'),
    `{{- range $i := until ${OBJECTS.configMaps} }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ printf "%s-config-%d" $.Release.Name $i }}
  labels:
    {{- include "objects.labels" $ | nindent 4 }}
data:
  index: {{ $i | quote }}
  greeting: {{ $.Values.greeting | quote }}
{{- end }}
`,
  );
  return chart;
}

/** Packages the generated chart and pushes it to the anonymous registry, as the tests do. */
async function pushObjectsChart(stack: LocalStack, workDir: string) {
  const source = writeObjectsChart(join(workDir, 'chart-src'));
  const out = join(workDir, 'chart-out');
  mkdirSync(out);
  await runHelm(['package', source, '-d', out]);
  await runHelm([
    'push',
    join(out, `${OBJECTS_CHART}-0.1.0.tgz`),
    `oci://${stack.registry}/charts`,
    '--plain-http',
  ]);
}

function helmUpgradeArgs(release: string, hand: HandRun, extra: string[]) {
  // The flags the plugin passes too (history, timeout), minus --debug,
  // --output=json and the post-renderer, which a person would not type.
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

/** Runs the two sides of one round, alternating who goes first. */
async function alternate(
  round: number,
  runApi: () => Promise<void>,
  runHand: () => Promise<void>,
) {
  if (round % 2) {
    await runApi();
    await runHand();
  } else {
    await runHand();
    await runApi();
  }
}

function spread(samples: number[]): string {
  return `min ${ms(Math.min(...samples))}, max ${ms(Math.max(...samples))}`;
}

function verdict(part: keyof typeof TARGETS, a: number, b: number): string {
  const target = TARGETS[part];
  return `target <= ${target.toFixed(1)}x: ${
    a / b <= target ? 'within' : 'above'
  }`;
}

/**
 * The operation's progress lines with their time since it was created; runs
 * of lines that start alike (helm's "waiting for resource ...", one line per
 * object) are folded into one with their count and the time of the last.
 */
async function printTimeline(api: BenchApi, operation: Json, title: string) {
  const { body } = await api.call(
    'GET',
    `/operations/${operation.id}/lines?limit=500`,
  );
  const created = Date.parse(operation.createdAt);
  const lines = (body.items ?? []) as Array<{ at: string; text: string }>;
  console.log(
    `  timeline of one ${title} (ms since the operation was created; operation durationMs ${ms(
      operation.durationMs,
    )}):`,
  );
  const head = (text: string) => text.split(' ').slice(0, 2).join(' ');
  const folded: Array<{
    first: number;
    last: number;
    text: string;
    n: number;
  }> = [];
  for (const line of lines) {
    const at = Date.parse(line.at) - created;
    const text = line.text.replace(/\s+/g, ' ');
    const previous = folded[folded.length - 1];
    if (previous && head(previous.text) === head(text)) {
      previous.last = at;
      previous.n += 1;
    } else {
      folded.push({ first: at, last: at, text, n: 1 });
    }
  }
  for (const entry of folded) {
    const text =
      entry.n > 1
        ? `${entry.text.slice(0, 70)}... (${entry.n} lines, last at ${
            entry.last
          })`
        : entry.text.slice(0, 110);
    console.log(`    ${String(entry.first).padStart(6)}  ${text}`);
  }
}

/** Median of the per-round ratios: each API run against the hand run of its own round. */
function pairedRatio(ours: number[], byHand: number[]): string {
  return `${median(ours.map((a, i) => a / byHand[i])).toFixed(2)}x`;
}

async function benchDryRun(
  api: BenchApi,
  chart: ChartUnderTest,
  planId: string,
  hand: HandRun,
  handRelease: string,
): Promise<Figures> {
  const ours: number[] = [];
  const server: number[] = [];
  const byHand: number[] = [];
  // Parts of ours, by hand, as a reference for where the time goes.
  const clientRender: number[] = [];
  const getManifest: number[] = [];
  const operations: Json[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await alternate(
      round,
      async () => {
        const { operation, ms: elapsed } = await api.runStep(planId, 'dry-run');
        ours.push(elapsed);
        server.push(operation.durationMs);
        operations.push(operation);
      },
      async () => {
        byHand.push(
          await timeHelm(
            helmUpgradeArgs(handRelease, hand, ['--dry-run=server']),
            hand.kubeconfig,
          ),
        );
      },
    );
    clientRender.push(
      await timeHelm(
        helmUpgradeArgs(handRelease, hand, ['--dry-run=client', '--skip-crds']),
        hand.kubeconfig,
      ),
    );
    getManifest.push(
      await timeHelm(
        ['get', 'manifest', handRelease, `--namespace=${NAMESPACE}`],
        hand.kubeconfig,
      ),
    );
  }
  const a = median(ours);
  const b = median(byHand);
  console.log(
    `\ndry-run: ${chart.label} against the deployed release, ${ROUNDS} alternating rounds`,
  );
  console.log(
    `  API  POST dry-run -> operation succeeded:   median ${ms(a)}  (${spread(
      ours,
    )}; operation durationMs median ${ms(median(server))})`,
  );
  console.log(
    `  hand helm upgrade --install --dry-run=server: median ${ms(b)}  (${spread(
      byHand,
    )})`,
  );
  console.log(
    `  ratio: ${ratio(a, b)} (median/median; ${verdict(
      'dry-run',
      a,
      b,
    )}); median of per-round ratios ${pairedRatio(ours, byHand)}`,
  );
  console.log(
    `  for reference, by hand: helm upgrade --install --dry-run=client --skip-crds median ${ms(
      median(clientRender),
    )}, helm get manifest median ${ms(median(getManifest))}`,
  );
  if (TIMELINE && operations.length > 0)
    await printTimeline(api, operations[operations.length - 1], 'API dry-run');
  return {
    chart: chart.label,
    part: 'dry-run',
    api: a,
    hand: b,
    paired: pairedRatio(ours, byHand),
  };
}

async function benchApply(
  api: BenchApi,
  chart: ChartUnderTest,
  ids: { planId: string; profileId: string },
  hand: HandRun,
  handRelease: string,
): Promise<Figures> {
  const ours: number[] = [];
  const server: number[] = [];
  const byHand: number[] = [];
  const operations: Json[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const values = { greeting: `bench round ${round} ${suffix}` };
    // Not timed: the gates an apply requires, for exactly these values.
    await api.expect(200, 'PUT', `/profiles/${ids.profileId}`, { values });
    await api.runStep(ids.planId, 'dry-run');
    await api.runStep(ids.planId, 'preflight');
    writeFileSync(hand.valuesFile, JSON.stringify(values));
    await alternate(
      round,
      async () => {
        const { operation, ms: elapsed } = await api.runStep(
          ids.planId,
          'apply',
        );
        ours.push(elapsed);
        server.push(operation.durationMs);
        operations.push(operation);
      },
      async () => {
        byHand.push(
          await timeHelm(
            helmUpgradeArgs(handRelease, hand, [
              '--rollback-on-failure',
              '--wait=watcher',
            ]),
            hand.kubeconfig,
          ),
        );
      },
    );
  }
  const a = median(ours);
  const b = median(byHand);
  console.log(
    `\napply: ${chart.label}, upgrade with a changed value, ${ROUNDS} alternating rounds`,
  );
  console.log(
    `  API  POST apply -> operation succeeded:     median ${ms(a)}  (${spread(
      ours,
    )}; operation durationMs median ${ms(median(server))})`,
  );
  console.log(
    `  hand helm upgrade --install --rollback-on-failure --wait=watcher: median ${ms(
      b,
    )}  (${spread(byHand)})`,
  );
  console.log(
    `  ratio: ${ratio(a, b)} (median/median; ${verdict(
      'apply',
      a,
      b,
    )}); median of per-round ratios ${pairedRatio(ours, byHand)}`,
  );
  if (TIMELINE && operations.length > 0)
    await printTimeline(api, operations[operations.length - 1], 'API apply');
  return {
    chart: chart.label,
    part: 'apply',
    api: a,
    hand: b,
    paired: pairedRatio(ours, byHand),
  };
}

/** The archive the plugin stored at registration: the very same bytes for helm by hand. */
async function writeStoredArchive(
  database: BenchDatabase,
  chartId: string,
  path: string,
) {
  const row = await database
    .knex('deployments_charts')
    .where({ id: chartId })
    .first('archive');
  writeFileSync(path, row.archive);
}

async function main() {
  const stack = readLocalStack();
  if (!stack) {
    throw new Error(
      'run scripts/stack up and eval "$(scripts/stack env)" first',
    );
  }
  console.log(machineLine('dry-run/apply bench'));
  const database = await createBenchDatabase('dryrun');
  console.log(
    `database: ${database.label}; backend in this process (startTestBackend)`,
  );
  const backend = await startBenchBackend({ database });
  const { api } = backend;
  const workDir = mkdtempSync(join(tmpdir(), 'kd-bench-dryrun-'));
  const installed: string[] = [];
  const figures: Figures[] = [];
  try {
    const ref = await prepareDeployments(api, stack);
    const charts: ChartUnderTest[] = [];
    if (CHARTS.includes('hello')) {
      charts.push({
        key: 'hello',
        label: 'hello 0.1.0 (3 objects)',
        chartId: ref.chartId,
        objects: 3,
      });
    }
    if (CHARTS.includes('objects')) {
      await pushObjectsChart(stack, workDir);
      const chart = await api.expect(201, 'POST', '/charts', {
        reference: `oci://${stack.registry}/charts/${OBJECTS_CHART}`,
        version: '0.1.0',
      });
      const count = OBJECTS.deployments + OBJECTS.services + OBJECTS.configMaps;
      charts.push({
        key: 'objects',
        label: `${OBJECTS_CHART} 0.1.0 (${count} objects: ${OBJECTS.deployments} Deployments, ${OBJECTS.services} Services, ${OBJECTS.configMaps} ConfigMaps)`,
        chartId: chart.id,
        objects: count,
      });
    }
    for (const chart of charts) {
      const apiRelease = `bench-dr-${chart.key}-api-${suffix}`;
      const handRelease = `bench-dr-${chart.key}-hand-${suffix}`;
      const hand: HandRun = {
        archive: join(workDir, `${chart.key}.tgz`),
        valuesFile: join(workDir, `${chart.key}-values.json`),
        kubeconfig: stack.adminKubeconfigPath,
      };
      await writeStoredArchive(database, chart.chartId, hand.archive);
      const values = { greeting: `bench install ${suffix}` };
      writeFileSync(hand.valuesFile, JSON.stringify(values));
      const ids = await createPlan(api, {
        chartId: chart.chartId,
        releaseName: apiRelease,
        values,
      });
      // First installs, not timed: every timed run meets a deployed release.
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
      if (PARTS.includes('dry-run')) {
        figures.push(
          await benchDryRun(api, chart, ids.planId, hand, handRelease),
        );
      }
      if (PARTS.includes('apply')) {
        figures.push(await benchApply(api, chart, ids, hand, handRelease));
      }
    }
    console.log(
      `\nsummary (medians of ${ROUNDS}; API until the operation succeeded, helm by hand with the admin kubeconfig):`,
    );
    for (const f of figures) {
      console.log(
        `  ${f.part.padEnd(7)} ${f.chart.split(' (')[0].padEnd(20)} API ${ms(
          f.api,
        ).padStart(8)}  hand ${ms(f.hand).padStart(8)}  ratio ${ratio(
          f.api,
          f.hand,
        ).padStart(6)}  per-round ${f.paired.padStart(6)}  (${verdict(
          f.part,
          f.api,
          f.hand,
        )})`,
      );
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
  console.error(
    `dry-run/apply bench failed: ${String(error.message).slice(0, 500)}`,
  );
  process.exit(1);
});

/*
 * Load benchmark: event-loop lag and memory of the backend process while
 * 20 applies run in parallel and 50 log follow streams are open, against
 * the same figures measured idle in the same run.
 *
 * The backend runs in a child process (bench/lib/backendProcess.ts) that
 * measures itself with perf_hooks.monitorEventLoopDelay (10 ms resolution;
 * lag is the delay beyond that interval) and samples its RSS every 100 ms,
 * so this script's own client work does not count. The helm processes the
 * applies start are separate processes: their memory is not in the RSS.
 *
 * Follow streams are capped at 5 per user (deployments.logs.maxStreamsPerUser)
 * and 100 per backend. The benchmark keeps that default and opens the
 * streams as 10 different users (mock user tokens, 5 streams each), which is
 * how 50 streams would arrive in real use.
 *
 * Needs the local stack:  scripts/stack up && eval "$(scripts/stack env)"
 * Run from the repository root (see bench/README.md):
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/load.ts
 *
 * Environment: BENCH_LOAD_APPLIES (20), BENCH_LOAD_STREAMS (50),
 * BENCH_LOAD_IDLE_SECONDS (10), BENCH_DATABASE (postgres | sqlite),
 * BENCH_PROFILE=1 (CPU-profile the backend during the load window and print
 * where its main thread spent the time; profiling itself adds lag).
 * Not a test: it only prints figures. Every release it installs (bench-load-*)
 * is uninstalled at the end and its database dropped.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { readLocalStack } from '../plugins/deployments-backend/src/__testUtils__/localStack';
import {
  BenchApi,
  createPlan,
  prepareDeployments,
  uninstallReleases,
} from './lib/backend';
import { forkBenchBackend, WindowStats } from './lib/backendProcess';
import {
  envInt,
  machineLine,
  mapLimit,
  median,
  mib,
  ms,
  percentile,
} from './lib/stats';

const APPLIES = envInt('BENCH_LOAD_APPLIES', 20);
const STREAMS = envInt('BENCH_LOAD_STREAMS', 50);
const IDLE_SECONDS = envInt('BENCH_LOAD_IDLE_SECONDS', 10);
const STREAMS_PER_USER = 5;

/** An open follow stream: when its first line came, and how to close it. */
interface OpenStream {
  firstLineMs: number;
  bytes: () => number;
  close: () => void;
}

function openFollow(url: string, authorization: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let bytes = 0;
    const request = http.get(url, { headers: { authorization } }, response => {
      if (response.statusCode !== 200) {
        let body = '';
        response.on('data', chunk => {
          body += chunk;
        });
        response.on('end', () =>
          reject(
            new Error(
              `follow stream: ${response.statusCode} ${body.slice(0, 200)}`,
            ),
          ),
        );
        return;
      }
      let resolved = false;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (!resolved && chunk.includes(0x0a)) {
          resolved = true;
          resolve({
            firstLineMs: performance.now() - start,
            bytes: () => bytes,
            close: () => request.destroy(),
          });
        }
      });
      response.on('error', () => undefined);
    });
    request.on('error', error => reject(error));
  });
}

function lagLine(name: string, s: WindowStats) {
  return `  ${name.padEnd(7)} ${s.seconds
    .toFixed(1)
    .padStart(5)} s   lag p50 ${ms(s.lagP50Ms).padStart(8)}  p99 ${ms(
    s.lagP99Ms,
  ).padStart(8)}  max ${ms(s.lagMaxMs).padStart(8)}   peak RSS ${mib(
    s.peakRssBytes,
  )} (at start ${mib(s.startRssBytes)})`;
}

function times(load: number, idle: number): string {
  // An idle lag under 0.05 ms is at the clock's noise: a ratio would mean nothing.
  return idle < 0.05 ? 'n/a (idle ~0)' : `${(load / idle).toFixed(1)}x`;
}

async function main() {
  const stack = readLocalStack();
  if (!stack) {
    throw new Error(
      'run scripts/stack up and eval "$(scripts/stack env)" first',
    );
  }
  console.log(machineLine('load bench'));
  const backend = await forkBenchBackend({ name: 'load' });
  console.log(
    `database: ${backend.database}; backend in child process ${backend.pid}`,
  );
  const api = BenchApi.create(
    `http://127.0.0.1:${backend.port}/api/deployments`,
  );
  const suffix = randomBytes(3).toString('hex');
  const logRelease = `bench-load-logs-${suffix}`;
  const releases = Array.from(
    { length: APPLIES },
    (_, i) => `bench-load-${suffix}-${i}`,
  );
  const installed: string[] = [];
  const streams: OpenStream[] = [];
  try {
    const ref = await prepareDeployments(api, stack);

    // A release whose pod the streams follow, deployed before measuring.
    const logPlan = await createPlan(api, {
      chartId: ref.chartId,
      releaseName: logRelease,
      values: { greeting: 'bench load logs' },
    });
    installed.push(logRelease);
    for (const step of ['dry-run', 'preflight', 'apply'] as const) {
      await api.runStep(logPlan.planId, step, 200);
    }
    const pods = await api.expect(200, 'GET', `/plans/${logPlan.planId}/pods`);
    const logsUrl = `${api.baseUrl}/plans/${
      logPlan.planId
    }/logs?pod=${encodeURIComponent(pods.items[0].name)}&follow=true`;

    // The plans to apply, with their gates passed, also before measuring.
    const setupStart = performance.now();
    const planIds = await mapLimit(releases, 2, async release => {
      const { planId } = await createPlan(api, {
        chartId: ref.chartId,
        releaseName: release,
        values: { greeting: `bench load ${release}` },
        timeoutSeconds: 300,
      });
      await api.runStep(planId, 'dry-run', 200);
      await api.runStep(planId, 'preflight', 200);
      return planId;
    });
    console.log(
      `setup: ${APPLIES} plans through dry-run and preflight in ${ms(
        performance.now() - setupStart,
      )}`,
    );

    // Idle: the backend with nothing to do (its scheduled tasks still run).
    await new Promise(resolve => setTimeout(resolve, 2000));
    await backend.start('idle');
    await new Promise(resolve => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idle = await backend.stop('idle');

    // Load: open the streams, then start every apply at once.
    await backend.start('load');
    await backend.start('open');
    const loadStart = performance.now();
    const users = Math.ceil(STREAMS / STREAMS_PER_USER);
    const opened = await Promise.all(
      Array.from({ length: STREAMS }, (_, i) =>
        openFollow(
          logsUrl,
          mockCredentials.user.header(`user:default/bench-load-${i % users}`),
        ),
      ),
    );
    streams.push(...opened);
    const streamsOpenMs = performance.now() - loadStart;
    const opening = await backend.stop('open');
    await backend.start('apply');
    const applyStart = performance.now();
    installed.push(...releases);
    const started = await Promise.all(
      planIds.map(planId =>
        api.expect(202, 'POST', `/plans/${planId}/apply`, {}),
      ),
    );
    const acceptedMs = performance.now() - applyStart;
    const finished = new Map<
      string,
      { status: string; durationMs: number; at: number }
    >();
    while (finished.size < started.length) {
      await new Promise(resolve => setTimeout(resolve, 500));
      for (const operation of started) {
        if (finished.has(operation.id)) continue;
        const { body } = await api.call('GET', `/operations/${operation.id}`);
        if (body.status !== 'running') {
          finished.set(operation.id, {
            status: body.status,
            durationMs: body.durationMs,
            at: performance.now() - applyStart,
          });
        }
      }
      if (performance.now() - applyStart > 900_000) {
        throw new Error('applies did not finish within 15 minutes');
      }
    }
    const applying = await backend.stop('apply');
    const load = await backend.stop('load');
    const bytes = streams.reduce((sum, s) => sum + s.bytes(), 0);
    for (const stream of streams.splice(0)) stream.close();

    const outcomes = [...finished.values()];
    const succeeded = outcomes.filter(o => o.status === 'succeeded').length;
    const firstLines = opened.map(s => s.firstLineMs);
    console.log(
      `\nload: ${STREAMS} follow streams (${users} users x up to ${STREAMS_PER_USER}) open, then ${APPLIES} applies started at once`,
    );
    console.log(
      `  streams: all ${STREAMS} had their first line after ${ms(
        streamsOpenMs,
      )} (per stream p50 ${ms(median(firstLines))}, p95 ${ms(
        percentile(firstLines, 95),
      )}); ${bytes} bytes read`,
    );
    console.log(
      `  applies: ${APPLIES} POSTs answered 202 within ${ms(
        acceptedMs,
      )}; ${succeeded}/${APPLIES} succeeded; last finished after ${ms(
        Math.max(...outcomes.map(o => o.at)),
      )}; operation durationMs p50 ${ms(
        median(outcomes.map(o => o.durationMs)),
      )}, max ${ms(Math.max(...outcomes.map(o => o.durationMs)))}`,
    );
    console.log(
      '\nbackend process (child), event-loop lag beyond the 10 ms sampling interval and RSS:',
    );
    console.log(lagLine('idle', idle));
    console.log(lagLine('load', load));
    console.log(
      lagLine('  open', opening) +
        `   (phase 1: opening the ${STREAMS} streams)`,
    );
    console.log(
      lagLine('  apply', applying) +
        `   (phase 2: the ${APPLIES} applies, streams open)`,
    );
    if (load.profile) {
      console.log('  main thread during load, by self time (BENCH_PROFILE=1):');
      for (const entry of load.profile) {
        console.log(
          `    ${ms(entry.ms).padStart(9)} ${(entry.share * 100)
            .toFixed(1)
            .padStart(5)}%  ${entry.name}`,
        );
      }
    }
    console.log(
      `  ratio load/idle: lag p50 ${times(
        load.lagP50Ms,
        idle.lagP50Ms,
      )}, p99 ${times(load.lagP99Ms, idle.lagP99Ms)}, max ${times(
        load.lagMaxMs,
        idle.lagMaxMs,
      )}; peak RSS ${(load.peakRssBytes / idle.peakRssBytes).toFixed(
        2,
      )}x (+${mib(load.peakRssBytes - idle.peakRssBytes)})`,
    );
  } finally {
    for (const stream of streams) stream.close();
    await uninstallReleases(stack, installed);
    await backend.exit();
    console.log(
      `\ncleaned up: ${installed.length} releases (bench-load-${suffix}-*, ${logRelease}) uninstalled, database dropped`,
    );
  }
}

main().catch(error => {
  console.error(`load bench failed: ${String(error.message).slice(0, 500)}`);
  process.exit(1);
});

/*
 * Pod log benchmark: GET /plans/{id}/logs (followed and plain) against
 * `kubectl logs` (-f and plain) for the same pod and container, in one run,
 * plus the API server read straight from this process as a floor.
 *
 * The local stack's pods are KWOK pods: their "logs" are the 41 lines (about
 * 2.3 KB) of the file scripts/stack writes to .stack/logs/current.log, served
 * by KWOK, and a followed stream then stays open without new lines. So this
 * measures latency (first line, all lines) rather than throughput; the bytes
 * per second printed are that small log divided by the time to read it.
 *
 * Needs the local stack:  scripts/stack up && eval "$(scripts/stack env)"
 * Run from the repository root (see bench/README.md):
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs bench/logs.ts
 *
 * Environment: BENCH_LOGS_ROUNDS (10), BENCH_DATABASE (postgres | sqlite).
 * Not a test: it only prints timings. Its one release (bench-logs-*) is
 * uninstalled at the end and its database dropped.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import { KubeConfig } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import {
  readLocalStack,
  runHelm,
} from '../plugins/deployments-backend/src/__testUtils__/localStack';
import {
  createBenchDatabase,
  createPlan,
  prepareDeployments,
  startBenchBackend,
  uninstallReleases,
} from './lib/backend';
import { envInt, machineLine, median, ms, ratio } from './lib/stats';

const ROUNDS = envInt('BENCH_LOGS_ROUNDS', 10);
const READ_TIMEOUT_MS = 30_000;

interface ReadTiming {
  firstLine: number;
  all: number;
  bytes: number;
}

/**
 * Counts lines as chunks arrive; `done` when `expectLines` were seen (a
 * followed stream never ends by itself) or the stream ended.
 */
class LineClock {
  private readonly start = performance.now();
  private firstLine?: number;
  private lines = 0;
  private bytes = 0;

  constructor(private readonly expectLines: number) {}

  /** Feeds a chunk; true once every expected line arrived. */
  add(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    for (const byte of chunk) {
      if (byte === 0x0a) {
        this.lines++;
        this.firstLine ??= performance.now() - this.start;
      }
    }
    return this.lines >= this.expectLines;
  }

  finish(): ReadTiming {
    const all = performance.now() - this.start;
    if (this.firstLine === undefined || this.lines < this.expectLines) {
      throw new Error(`read ${this.lines} of ${this.expectLines} lines`);
    }
    return { firstLine: this.firstLine, all, bytes: this.bytes };
  }
}

/** GET over http(s); for a followed stream, hangs up once all lines arrived. */
function timeGet(
  url: string,
  options: https.RequestOptions,
  expectLines: number,
): Promise<ReadTiming> {
  return new Promise((resolve, reject) => {
    const clock = new LineClock(expectLines);
    const transport = url.startsWith('https:') ? https : http;
    const request = transport.get(url, options, response => {
      if (response.statusCode !== 200) {
        reject(
          new Error(`GET ${new URL(url).pathname}: ${response.statusCode}`),
        );
        response.resume();
        return;
      }
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          resolve(clock.finish());
        } catch (error) {
          reject(error);
        }
        request.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        if (clock.add(chunk)) settle();
      });
      response.on('end', settle);
      response.on('error', error => {
        if (!settled) reject(error);
      });
    });
    const timer = setTimeout(
      () =>
        request.destroy(
          new Error(`no complete log within ${READ_TIMEOUT_MS / 1000}s`),
        ),
      READ_TIMEOUT_MS,
    );
    request.on('error', error => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Runs kubectl; for -f, stops it (this child only) once all lines arrived. */
function timeKubectl(args: string[], expectLines: number): Promise<ReadTiming> {
  return new Promise((resolve, reject) => {
    const clock = new LineClock(expectLines);
    const child = spawn('kubectl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let result: ReadTiming | undefined;
    let failure: Error | undefined;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), READ_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      if (result === undefined && failure === undefined && clock.add(chunk)) {
        result = clock.finish();
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', chunk => {
      stderr += chunk;
    });
    child.on('error', error => {
      failure = error;
    });
    child.on('close', code => {
      clearTimeout(timer);
      if (!result && !failure) {
        try {
          result = clock.finish();
        } catch (error) {
          failure = new Error(
            `kubectl exited ${code}: ${
              (error as Error).message
            }; ${stderr.slice(0, 200)}`,
          );
        }
      }
      if (result) resolve(result);
      else reject(failure);
    });
  });
}

function summary(samples: ReadTiming[]) {
  const firstLine = median(samples.map(s => s.firstLine));
  const all = median(samples.map(s => s.all));
  const bytes = samples[0].bytes;
  return { firstLine, all, bytes, rate: bytes / 1024 / (all / 1000) };
}

function line(name: string, s: ReturnType<typeof summary>) {
  return `  ${name.padEnd(44)} first line ${ms(s.firstLine).padStart(
    8,
  )}   all ${ms(s.all).padStart(8)}   ${s.bytes} B, ${s.rate.toFixed(0)} KiB/s`;
}

async function main() {
  const stack = readLocalStack();
  if (!stack) {
    throw new Error(
      'run scripts/stack up and eval "$(scripts/stack env)" first',
    );
  }
  console.log(machineLine('logs bench'));
  const database = await createBenchDatabase('logs');
  console.log(
    `database: ${database.label}; backend in this process (startTestBackend)`,
  );
  const backend = await startBenchBackend({ database });
  const { api } = backend;
  const release = `bench-logs-${randomBytes(3).toString('hex')}`;
  const installed: string[] = [];
  try {
    const ref = await prepareDeployments(api, stack);
    const { planId } = await createPlan(api, {
      chartId: ref.chartId,
      releaseName: release,
      values: { greeting: 'bench logs' },
    });
    installed.push(release);
    for (const step of ['dry-run', 'preflight', 'apply'] as const) {
      await api.runStep(planId, step);
    }
    const pods = await api.expect(200, 'GET', `/plans/${planId}/pods`);
    const pod = pods.items[0];
    const container = pod.containers.find(
      (c: { init?: boolean }) => !c.init,
    ).name;

    const kubectlBase = [
      '--kubeconfig',
      stack.adminKubeconfigPath,
      'logs',
      '-n',
      'team-a',
      pod.name,
      '-c',
      container,
    ];
    // How much log there is: what kubectl returns by default.
    const reference = await new Promise<string>((resolve, reject) => {
      const child = spawn('kubectl', kubectlBase, {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', chunk => {
        out += chunk;
      });
      child.on('close', code =>
        code === 0
          ? resolve(out)
          : reject(new Error(`kubectl logs exited ${code}`)),
      );
    });
    const expectLines = reference.split('\n').length - 1;
    console.log(
      `pod ${
        pod.name
      }, container ${container}: ${expectLines} lines, ${Buffer.byteLength(
        reference,
      )} bytes of log (KWOK serves a fixed file; a followed stream then stays open, idle)`,
    );

    const base = `${api.baseUrl}/plans/${planId}/logs?pod=${encodeURIComponent(
      pod.name,
    )}`;
    // The API server itself, read from this process with the admin credentials:
    // what neither the plugin nor kubectl can beat.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(stack.adminKubeconfigPath);
    const direct = `${
      kubeConfig.getCurrentCluster()!.server
    }/api/v1/namespaces/team-a/pods/${pod.name}/log?container=${container}`;
    const directOptions: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(directOptions);

    const results: Record<string, ReadTiming[]> = {
      apiFollow: [],
      kubectlFollow: [],
      apiPlain: [],
      kubectlPlain: [],
      directFollow: [],
      directPlain: [],
    };
    // Part of every API log request: the release's manifest, to check the pod is in it.
    const manifestReads: number[] = [];
    // Each followed request as another user: a closed follow stream does not
    // give its per-user slot back (see the check at the end), and one user
    // would be refused (429) from the sixth request on.
    let follower = 0;
    const nextFollower = () => ({
      headers: {
        authorization: mockCredentials.user.header(
          `user:default/bench-logs-${follower++}`,
        ),
      },
    });
    const steps: Array<[keyof typeof results, () => Promise<ReadTiming>]> = [
      [
        'apiFollow',
        () => timeGet(`${base}&follow=true`, nextFollower(), expectLines),
      ],
      ['kubectlFollow', () => timeKubectl([...kubectlBase, '-f'], expectLines)],
      ['apiPlain', () => timeGet(base, {}, expectLines)],
      ['kubectlPlain', () => timeKubectl(kubectlBase, expectLines)],
      [
        'directFollow',
        () => timeGet(`${direct}&follow=true`, directOptions, expectLines),
      ],
      ['directPlain', () => timeGet(direct, directOptions, expectLines)],
    ];
    // One warm-up of each, then rounds in alternating order.
    for (const [, run] of steps) await run();
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...steps].reverse() : steps;
      for (const [name, run] of order) {
        results[name].push(await run());
      }
      const t = performance.now();
      await runHelm(['get', 'manifest', release, '--namespace=team-a'], {
        kubeconfig: stack.adminKubeconfigPath,
      });
      manifestReads.push(performance.now() - t);
    }

    const apiFollow = summary(results.apiFollow);
    const kubectlFollow = summary(results.kubectlFollow);
    const apiPlain = summary(results.apiPlain);
    const kubectlPlain = summary(results.kubectlPlain);
    console.log(
      `\nmedians of ${ROUNDS} alternating rounds (after one warm-up each):`,
    );
    console.log(line('API  GET logs?follow=true (http.get)', apiFollow));
    console.log(line('hand kubectl logs -f', kubectlFollow));
    console.log(line('API  GET logs (plain read)', apiPlain));
    console.log(line('hand kubectl logs', kubectlPlain));
    console.log(
      line(
        'floor: API server read from this process, -f',
        summary(results.directFollow),
      ),
    );
    console.log(
      line(
        'floor: API server read from this process',
        summary(results.directPlain),
      ),
    );
    console.log(
      `ratio follow, first line: the API takes ${ratio(
        apiFollow.firstLine,
        kubectlFollow.firstLine,
      )} the time of kubectl logs -f`,
    );
    console.log(
      `ratio plain read, all lines: the API takes ${ratio(
        apiPlain.all,
        kubectlPlain.all,
      )} the time of kubectl logs`,
    );
    console.log(
      'kubectl starts a process each time; the API checks on every request that the pod belongs to the',
    );
    console.log(
      'release (helm get manifest, pod read, selector match, container lookup) before it reads.',
    );
    console.log(
      `For scale: helm get manifest of this release by hand, median ${ms(
        median(manifestReads),
      )}.`,
    );

    // Does a follow stream the client closed give its slot back? One user
    // opens and closes streams one after another, pausing between them.
    const statuses: number[] = [];
    const leakUser = {
      authorization: mockCredentials.user.header(
        'user:default/bench-logs-slots',
      ),
    };
    for (let i = 0; i < 7; i++) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const request = http.get(
            `${base}&follow=true`,
            { headers: leakUser },
            response => {
              if (response.statusCode !== 200) {
                response.resume();
                resolve(response.statusCode ?? 0);
                return;
              }
              response.once('data', () => {
                request.destroy();
                resolve(200);
              });
            },
          );
          request.on('error', reject);
        }),
      );
      await new Promise(resolve => setTimeout(resolve, 500));
    }
    const refused = statuses.filter(status => status === 429).length;
    console.log(
      `\nslot check: one user opened and closed 7 follow streams in turn (0.5 s apart): ${statuses.join(
        ' ',
      )}`,
    );
    if (refused > 0) {
      console.log(
        `PROBLEM: ${refused} of 7 were refused (429) although each earlier stream was closed by the client:`,
      );
      console.log(
        'the per-user follow slot is not given back when the client disconnects, so after 5 follows a user',
      );
      console.log(
        'is locked out until the backend restarts. See bench/README.md for the cause and the fix.',
      );
    }
  } finally {
    await uninstallReleases(stack, installed);
    await backend.stop();
    console.log(
      `\ncleaned up: ${
        installed.join(', ') || 'no releases'
      } uninstalled, database dropped`,
    );
  }
}

main().catch(error => {
  console.error(`logs bench failed: ${String(error.message).slice(0, 500)}`);
  process.exit(1);
});

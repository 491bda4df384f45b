/*
 * A HelmRunner in its own process, so a test can kill it (or only the
 * launcher it starts helm through) the way a crash would, and look at what
 * is left: helm processes, run directories.
 *
 * Run as a script, it reads KD_HELM_RUN (JSON), starts `helm upgrade
 * --install --wait` of the given chart with the local stack's admin access,
 * prints "waiting" once helm waits (for the release's resources, or for a
 * post-renderer that never answers), and "ended <outcome>" when the run is
 * over. Imported, it spawns that script.
 */
import { LoggerService } from '@backstage/backend-plugin-api';
import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface HelmRunOptions {
  workRoot: string;
  /** A packaged chart whose resources never become ready. */
  chartPath: string;
  digest: string;
  releaseName: string;
  namespace: string;
  values: Record<string, unknown>;
  /**
   * What helm waits for: the release's resources (helm prints progress
   * meanwhile), or its post-renderer, which never answers (helm is silent).
   */
  waitFor: 'resources' | 'post-renderer';
}

export interface HelmRunnerProcess {
  child: ChildProcess;
  pid: number;
  /** Every line the process printed so far. */
  lines: string[];
  /** Resolves with the first line that starts with `prefix`. */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
}

export function spawnHelmRunnerProcess(
  options: HelmRunOptions,
): HelmRunnerProcess {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      __filename,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, KD_HELM_RUN: JSON.stringify(options) },
    },
  );
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', text => {
    lines.push(text);
    for (const waiter of waiters.splice(0)) waiter();
  });
  const exited = new Promise<void>(resolve =>
    child.once('exit', () => {
      for (const waiter of waiters.splice(0)) waiter();
      resolve();
    }),
  );
  return {
    child,
    pid: child.pid!,
    lines,
    exited,
    line(prefix, timeoutMs = 120_000) {
      const until = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(text => text.startsWith(prefix));
          if (found !== undefined) {
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            reject(new Error(`exited without "${prefix}": ${lines}`));
          } else if (Date.now() > until) {
            reject(new Error(`no "${prefix}" in time: ${lines}`));
          } else {
            waiters.push(check);
            setTimeout(check, 500);
          }
        };
        check();
      });
    },
  };
}

async function main() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { readFileSync } = require('node:fs');
  const { HelmRunner } = require('../helm/HelmRunner');
  const { adminAccess } = require('./clusterAccess');
  const { requireLocalStack } = require('./localStack');
  const { canonicalGuard } = require('./canonicalGuard');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const options: HelmRunOptions = JSON.parse(process.env.KD_HELM_RUN!);
  // Alive like a backend serving requests, whatever the run is waiting for.
  const alive = setInterval(() => {}, 60_000);
  const runner = await HelmRunner.create({
    logger: silentLogger(),
    workRoot: options.workRoot,
  });
  let waiting = false;
  try {
    await runner.upgrade(
      {
        access: adminAccess(requireLocalStack()),
        namespace: options.namespace,
        releaseName: options.releaseName,
      },
      { archive: readFileSync(options.chartPath), digest: options.digest },
      options.values,
      {
        timeoutSeconds: 600,
        createNamespace: false,
        historyMax: 5,
        guard:
          options.waitFor === 'post-renderer'
            ? () => {
                process.stdout.write('waiting\n');
                return new Promise<string>(() => {});
              }
            : canonicalGuard,
        rollbackOnFailure: false,
        wait: true,
        onLine: (line: string) => {
          if (!waiting && line.startsWith('waiting for resource')) {
            waiting = true;
            process.stdout.write('waiting\n');
          }
        },
      },
    );
    process.stdout.write('ended succeeded\n');
  } catch (error) {
    process.stdout.write(
      `ended ${(error as Error).name}: ${(error as Error).message}\n`,
    );
  } finally {
    clearInterval(alive);
  }
}

/** No jest here, so no mocked logger. */
function silentLogger(): LoggerService {
  const logger: LoggerService = {
    error() {},
    warn() {},
    info() {},
    debug() {},
    child: () => logger,
  };
  return logger;
}

if (require.main === module) {
  main().catch(error => {
    process.stderr.write(`${error}\n`);
    process.exit(1);
  });
}

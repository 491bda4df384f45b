/*
 * The backend as a child process of a benchmark, so what the benchmark's
 * own client does (requests, polling, reading streams) does not count
 * against the backend's event loop and memory. Started by
 * `forkBenchBackend()`; measures itself between 'start' and 'stop' messages.
 */
import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { createBenchDatabase, startBenchBackend, Json } from './backend';

const RESOLUTION_MS = 10;
const RSS_SAMPLE_MS = 100;

/** Event-loop lag (beyond the sampling interval) and memory of one window. */
export interface WindowStats {
  seconds: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  samples: number;
  peakRssBytes: number;
  startRssBytes: number;
  /** With BENCH_PROFILE=1: where the main thread spent the window, by self time. */
  profile?: Array<{ name: string; ms: number; share: number }>;
}

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }>;
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function, most first. */
function topFunctions(profile: CpuProfile, count: number) {
  const frames = new Map(profile.nodes.map(n => [n.id, n.callFrame]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)!;
    const where = frame.url
      ? `${relative(process.cwd(), frame.url.replace(/^file:\/\//, ''))}:${
          frame.lineNumber + 1
        }`
      : '';
    const name = `${frame.functionName || '(anonymous)'}${
      where ? ` ${where}` : ''
    }`;
    const us = profile.timeDeltas[i] ?? 0;
    totals.set(name, (totals.get(name) ?? 0) + us);
    all += us;
  });
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / all }));
}

type FromChild =
  | { type: 'ready'; port: number; database: string; pid: number }
  | { type: 'window'; window: string; stats: WindowStats }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

type ToChild =
  | { type: 'start'; window: string }
  | { type: 'stop'; window: string }
  | { type: 'exit' };

/** The parent's handle on the backend child process. */
export interface ForkedBackend {
  port: number;
  pid: number;
  database: string;
  /** Starts a named measurement window in the child; windows may overlap. */
  start(window: string): Promise<void>;
  /** Ends the window and returns its figures. */
  stop(window: string): Promise<WindowStats>;
  /** Stops the backend, drops its database and waits for the child to exit. */
  exit(): Promise<void>;
}

/** Forks this file with the same TypeScript loader and waits until the backend listens. */
export async function forkBenchBackend(options: {
  name: string;
  config?: Json;
}): Promise<ForkedBackend> {
  const child = fork(__filename, [], {
    execArgv: ['--require', '@backstage/cli/config/nodeTransform.cjs'],
    env: {
      ...process.env,
      BENCH_BACKEND_NAME: options.name,
      BENCH_BACKEND_CONFIG: JSON.stringify(options.config ?? {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T extends FromChild['type']>(
    type: T,
    window?: string,
    timeoutMs = 180_000,
  ) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `backend process: no '${type}' within ${timeoutMs / 1000}s`,
          ),
        );
      }, timeoutMs);
      const onMessage = (message: FromChild) => {
        if (
          message.type === type &&
          (window === undefined ||
            (message.type === 'window' && message.window === window))
        ) {
          cleanup();
          resolve(message as Extract<FromChild, { type: T }>);
        } else if (message.type === 'failed') {
          cleanup();
          reject(new Error(`backend process: ${message.message}`));
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`backend process exited (${code}) before '${type}'`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  const send = (message: ToChild) => child.send(message);
  const ready = await next('ready');
  return {
    port: ready.port,
    pid: ready.pid,
    database: ready.database,
    start: async window => {
      send({ type: 'start', window });
    },
    stop: async window => {
      const answer = next('window', window);
      send({ type: 'stop', window });
      return (await answer).stats;
    },
    exit: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise(resolve => child.once('exit', resolve));
      const answer = next('stopped', undefined, 60_000).then(
        () => true,
        () => false,
      );
      send({ type: 'exit' });
      const stopped = await answer;
      if (!stopped) {
        // Only this benchmark's own child; its database is then left behind.
        console.error(
          `backend process ${child.pid} did not stop; killed, its bench_* database may remain`,
        );
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

async function runChild() {
  const reply = (message: FromChild) => process.send!(message);
  try {
    const database = await createBenchDatabase(
      process.env.BENCH_BACKEND_NAME ?? 'child',
    );
    const backend = await startBenchBackend({
      database,
      config: JSON.parse(process.env.BENCH_BACKEND_CONFIG ?? '{}'),
    });
    const session =
      process.env.BENCH_PROFILE === '1' ? new Session() : undefined;
    session?.connect();
    // Windows may overlap (a whole run and its phases); the first one open is profiled.
    const windows = new Map<
      string,
      {
        histogram: ELDHistogram;
        sampler: NodeJS.Timeout;
        startedAt: number;
        startRss: number;
        peakRss: number;
        profiled: boolean;
      }
    >();
    const handle = async (message: ToChild) => {
      if (message.type === 'start') {
        const profiled = Boolean(session) && windows.size === 0;
        if (profiled) {
          await session!.post('Profiler.enable');
          await session!.post('Profiler.start');
        }
        const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
        histogram.enable();
        const startRss = process.memoryUsage.rss();
        const window = {
          histogram,
          startedAt: performance.now(),
          startRss,
          peakRss: startRss,
          profiled,
          sampler: setInterval(() => {
            window.peakRss = Math.max(
              window.peakRss,
              process.memoryUsage.rss(),
            );
          }, RSS_SAMPLE_MS),
        };
        windows.set(message.window, window);
      } else if (message.type === 'stop') {
        const window = windows.get(message.window);
        if (!window) return;
        windows.delete(message.window);
        const { histogram } = window;
        histogram.disable();
        clearInterval(window.sampler);
        // The histogram holds whole timer intervals; lag is what exceeds the interval.
        const lag = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
        const profile = window.profiled
          ? topFunctions(
              (
                (await session!.post('Profiler.stop')) as {
                  profile: CpuProfile;
                }
              ).profile,
              15,
            )
          : undefined;
        reply({
          type: 'window',
          window: message.window,
          stats: {
            seconds: (performance.now() - window.startedAt) / 1000,
            lagP50Ms: lag(histogram.percentile(50)),
            lagP99Ms: lag(histogram.percentile(99)),
            lagMaxMs: lag(histogram.max),
            samples: histogram.count,
            peakRssBytes: Math.max(window.peakRss, process.memoryUsage.rss()),
            startRssBytes: window.startRss,
            profile,
          },
        });
      } else if (message.type === 'exit') {
        await backend.stop().catch(error => {
          console.error(`backend process: stopping failed: ${error.message}`);
        });
        reply({ type: 'stopped' });
        process.disconnect?.();
        process.exit(0);
      }
    };
    // One message at a time: a profiler start must not overlap a stop.
    let queue = Promise.resolve();
    process.on('message', (message: ToChild) => {
      queue = queue
        .then(() => handle(message))
        .catch(error => {
          reply({
            type: 'failed',
            message: String((error as Error).message).slice(0, 500),
          });
        });
    });
    reply({
      type: 'ready',
      port: backend.port,
      database: database.label,
      pid: process.pid,
    });
  } catch (error) {
    reply({
      type: 'failed',
      message: String((error as Error).message).slice(0, 500),
    });
    process.exit(1);
  }
}

if (require.main === module && process.send) {
  runChild();
}

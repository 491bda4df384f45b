import { StringDecoder } from 'node:string_decoder';
import { launchProcess } from './processLauncher';

export interface HelmProcessOptions {
  binary: string;
  args: string[];
  /** The whole environment of the child: nothing is inherited. */
  env: Record<string, string>;
  cwd: string;
  signal?: AbortSignal;
  /** Stop (SIGTERM) the process when it is still running after this long. */
  deadlineMs: number;
  /** How long helm may take to clean up after SIGTERM before it gets SIGKILL. */
  killGraceMs: number;
  /** Each complete line of stdout, unredacted. */
  onStdoutLine?: (line: string) => void;
  /** Each complete line of stderr, unredacted. */
  onStderrLine?: (line: string) => void;
  /** Larger output is a failure, so a hostile chart cannot fill memory. */
  maxStdoutBytes?: number;
  /** Called once helm runs, with its pid (which is also its process group's). */
  onSpawn?: (pid: number) => void;
}

export interface HelmProcessResult {
  exitCode?: number;
  signal?: NodeJS.Signals;
  stdout: string;
  /** The last part of stderr (see MAX_STDERR_CHARS). */
  stderr: string;
  /** Stopped because the AbortSignal fired. */
  cancelled: boolean;
  /** Stopped because the deadline passed. */
  timedOut: boolean;
  /** Stopped because stdout was larger than allowed. */
  outputTooLarge: boolean;
  /** The process's pid, when it started. */
  pid?: number;
}

const DEFAULT_MAX_STDOUT_BYTES = 64 * 1024 * 1024;
const MAX_STDERR_CHARS = 256 * 1024;

/**
 * Runs helm once and settles when it has exited and its pipes are closed,
 * whatever the outcome. Stopping is always SIGTERM first, which helm answers
 * by cancelling its context (rolling back when asked to); SIGKILL follows
 * only if helm is still running after the grace period.
 *
 * @throws Error only when the process cannot be started (e.g. no such binary)
 */
export function runHelmProcess(
  options: HelmProcessOptions,
): Promise<HelmProcessResult> {
  const maxStdoutBytes = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT_BYTES;
  if (options.signal?.aborted) {
    return Promise.resolve({
      stdout: '',
      stderr: '',
      cancelled: true,
      timedOut: false,
      outputTooLarge: false,
    });
  }
  return new Promise((resolve, reject) => {
    // Through the launcher: spawning from the backend itself stalls its loop.
    const child = launchProcess({
      binary: options.binary,
      args: options.args,
      cwd: options.cwd,
      env: options.env,
    });

    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let cancelled = false;
    let timedOut = false;
    let outputTooLarge = false;
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;
    let spawnFailed = false;

    const stop = () => {
      if (stopping || !child.running) {
        return;
      }
      stopping = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        if (child.running) {
          child.kill('SIGKILL');
        }
      }, options.killGraceMs);
    };

    const onAbort = () => {
      cancelled = true;
      stop();
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.deadlineMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });

    const stdoutLines = lineSplitter(options.onStdoutLine);
    const stderrLines = lineSplitter(options.onStderrLine);
    child.on('stdout', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdoutBytes) {
        if (!outputTooLarge) {
          outputTooLarge = true;
          stop();
        }
        return;
      }
      stdoutChunks.push(chunk);
      stdoutLines.write(chunk);
    });
    child.on('stderr', (chunk: Buffer) => {
      const text = stderrLines.write(chunk);
      stderr = (stderr + text).slice(-MAX_STDERR_CHARS);
    });

    child.on('error', error => {
      // Only a failed start is reported as an error; it never closes.
      spawnFailed = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (spawnFailed) {
        return;
      }
      stdoutLines.end();
      stderr = (stderr + stderrLines.end()).slice(-MAX_STDERR_CHARS);
      resolve({
        ...(code !== null && { exitCode: code }),
        ...(signal !== null && { signal }),
        stdout: Buffer.concat(stdoutChunks).toString('utf8'),
        stderr,
        cancelled,
        timedOut,
        outputTooLarge,
        ...(child.pid !== undefined && { pid: child.pid }),
      });
    });
  });
}

/** Decodes UTF-8 across chunk borders and calls back once per complete line. */
function lineSplitter(onLine?: (line: string) => void) {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (text: string, final: boolean) => {
    pending += text;
    const lines = pending.split('\n');
    pending = final ? '' : lines.pop() ?? '';
    for (const line of lines) {
      if (final && line === '') {
        continue;
      }
      onLine?.(line.replace(/\r$/, ''));
    }
  };
  return {
    /** Returns the decoded text of the chunk. */
    write(chunk: Buffer): string {
      const text = decoder.write(chunk);
      emit(text, false);
      return text;
    },
    /** Flushes a last line without newline; returns the decoded rest. */
    end(): string {
      const text = decoder.end();
      emit(text, true);
      return text;
    },
  };
}

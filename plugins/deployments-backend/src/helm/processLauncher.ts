import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { killProcessGroup, waitUntilGone } from './processGroups';

/** What {@link launchProcess} starts: a program, its arguments and its whole environment. */
export interface LaunchRequest {
  binary: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/**
 * A process started by {@link launchProcess}. Events: `stdout` and `stderr`
 * (Buffer chunks), `close` (exit code, signal) once it has exited and its
 * pipes are drained, and `error` only when it could not be started.
 */
export interface LaunchedProcess {
  on(event: 'stdout' | 'stderr', listener: (chunk: Buffer) => void): this;
  on(
    event: 'close',
    listener: (code: number | null, signal: NodeJS.Signals | null) => void,
  ): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'spawn', listener: () => void): this;
  kill(signal: NodeJS.Signals): void;
  /** False once it exited, or when it never started. */
  readonly running: boolean;
  /** Known once the launcher reports the start (after the `spawn` event). */
  readonly pid?: number;
}

/*
 * Starting a process forks the process that starts it, and forking a
 * backend of several hundred MiB blocks its event loop for tens of
 * milliseconds each time (the load benchmark measured helm spawns as the
 * main source of stalls). A small launcher process, started once, does the
 * spawning; the backend only exchanges messages with it.
 *
 * The launcher is plain JavaScript run with `node -e`, so it needs no file
 * of its own in the built package.
 *
 * A helm process must never outlive the backend that runs it: once the
 * operation is marked failed or interrupted and its lock freed, a second
 * helm could write the same release. So, on Linux:
 * - each process leads its own process group (`detached`), so that it and
 *   whatever it started (post-renderers, plugins) can be killed together;
 * - it is started through `setpriv --pdeathsig KILL` when util-linux has it,
 *   so the kernel kills it the moment the launcher dies, however it died;
 * - the launcher SIGKILLs every group it started when the backend goes away
 *   (the IPC channel closes, whether the backend exited or was killed); it
 *   is itself detached, so a signal to the backend's group leaves it alive
 *   long enough to do that;
 * - the backend SIGKILLs the groups the launcher reported when the launcher
 *   dies, and reports those runs as ended only once they are gone.
 */
const LAUNCHER_SOURCE = `
const { spawn, spawnSync } = require('node:child_process');
const { accessSync, constants, statSync } = require('node:fs');
const { delimiter, join, resolve: resolvePath } = require('node:path');
const children = new Map();
const send = message => { if (process.connected) process.send(message); };
const executable = file => {
  try { accessSync(file, constants.X_OK); return statSync(file).isFile(); } catch { return false; }
};
// The program as exec would find it on PATH; undefined when it would not.
const resolve = (binary, path, cwd) => {
  if (binary.includes('/')) {
    const file = resolvePath(cwd || '/', binary);
    return executable(file) ? file : undefined;
  }
  for (const dir of (path || '').split(delimiter)) {
    if (dir && executable(join(dir, binary))) return join(dir, binary);
  }
  return undefined;
};
const setpriv = (() => {
  if (process.platform !== 'linux') return undefined;
  const found = resolve('setpriv', process.env.PATH);
  if (!found) return undefined;
  const probe = spawnSync(found, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
  return probe.status === 0 ? found : undefined;
})();
const killGroup = (child, signal) => {
  try { process.kill(-child.pid, signal); } catch { try { child.kill(signal); } catch {} }
};
process.on('message', message => {
  if (message.type === 'kill') {
    const child = children.get(message.id);
    if (!child || child.pid === undefined) return;
    // SIGTERM to helm alone (it rolls back, and needs its post-renderer for nothing then);
    // SIGKILL to everything it started.
    if (message.signal === 'SIGKILL') killGroup(child, 'SIGKILL');
    else child.kill(message.signal);
    return;
  }
  const { id, binary, args, env, cwd } = message;
  const program = resolve(binary, env.PATH, cwd);
  if (!program) {
    send({ type: 'error', id, message: 'spawn ' + binary + ' ENOENT', code: 'ENOENT' });
    return;
  }
  const [file, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', '--', program, ...args]]
    : [program, args];
  let child;
  try {
    child = spawn(file, argv, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  } catch (error) {
    send({ type: 'error', id, message: String(error && error.message), code: error && error.code });
    return;
  }
  children.set(id, child);
  child.on('error', error => {
    if (child.pid === undefined) {
      children.delete(id);
      send({ type: 'error', id, message: error.message, code: error.code });
    }
  });
  child.on('spawn', () => send({ type: 'spawn', id, pid: child.pid }));
  child.stdout.on('data', data => send({ type: 'stdout', id, data }));
  child.stderr.on('data', data => send({ type: 'stderr', id, data }));
  child.on('close', (code, signal) => {
    children.delete(id);
    send({ type: 'close', id, code, signal });
  });
});
// The backend went away (exited or killed): nothing it started may go on.
process.on('disconnect', () => {
  for (const child of children.values()) {
    if (child.pid !== undefined) killGroup(child, 'SIGKILL');
  }
  process.exit(0);
});
`;

// How long a lost launcher's runs may take to die before they are reported ended anyway.
const LOST_KILL_WAIT_MS = 5_000;

type LauncherMessage =
  | { type: 'spawn'; id: number; pid: number }
  | { type: 'stdout' | 'stderr'; id: number; data: Uint8Array }
  | {
      type: 'close';
      id: number;
      code: number | null;
      signal: NodeJS.Signals | null;
    }
  | { type: 'error'; id: number; message: string; code?: string };

class LaunchedViaLauncher extends EventEmitter implements LaunchedProcess {
  running = true;
  pid?: number;

  constructor(private readonly onKill: (signal: NodeJS.Signals) => void) {
    super();
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.onKill(signal);
  }
}

class Launcher {
  private readonly inFlight = new Map<number, LaunchedViaLauncher>();
  private nextId = 1;
  private isLost = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', message => this.receive(message as LauncherMessage));
    child.on('exit', () => this.lost());
    child.on('error', () => this.lost());
    this.idle();
  }

  static start(): Launcher {
    const launcher = spawn(
      process.execPath,
      ['--max-old-space-size=64', '-e', LAUNCHER_SOURCE],
      {
        // Buffers travel as Buffers; stderr stays the backend's for crashes.
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        serialization: 'advanced',
        env: { PATH: process.env.PATH ?? '' },
        // Its own group: a signal to the backend's group leaves it alive to kill what it started.
        detached: true,
        windowsHide: true,
      },
    );
    return new Launcher(launcher);
  }

  get alive(): boolean {
    return !this.isLost && this.child.connected && this.child.exitCode === null;
  }

  launch(request: LaunchRequest): LaunchedProcess {
    const id = this.nextId++;
    const launched = new LaunchedViaLauncher(signal => {
      // A lost launcher's runs are being killed already.
      if (!this.isLost) this.child.send({ type: 'kill', id, signal });
    });
    this.inFlight.set(id, launched);
    this.busy();
    this.child.send({ type: 'spawn', id, ...request });
    return launched;
  }

  private receive(message: LauncherMessage) {
    const launched = this.inFlight.get(message.id);
    if (!launched) return;
    switch (message.type) {
      case 'spawn':
        launched.pid = message.pid;
        launched.emit('spawn');
        break;
      case 'stdout':
      case 'stderr':
        launched.emit(message.type, Buffer.from(message.data));
        break;
      case 'close':
        this.settle(message.id);
        launched.emit('close', message.code, message.signal);
        break;
      default:
        this.settle(message.id);
        launched.emit(
          'error',
          Object.assign(new Error(message.message), { code: message.code }),
        );
    }
  }

  /**
   * The launcher died: what it started must die too, before its runs are
   * reported as ended (only then may an operation count as finished and
   * its release as free). Each run leads its own process group.
   */
  private lost() {
    if (this.isLost) return;
    this.isLost = true;
    const runs = [...this.inFlight];
    const pids = runs
      .map(([, launched]) => launched.pid)
      .filter((pid): pid is number => pid !== undefined);
    for (const pid of pids) {
      killProcessGroup(pid, 'SIGKILL');
    }
    void waitUntilGone(pids, LOST_KILL_WAIT_MS).then(() => {
      for (const [id, launched] of runs) {
        if (!this.inFlight.has(id)) continue;
        this.settle(id);
        launched.emit('close', null, 'SIGKILL');
      }
    });
  }

  private settle(id: number) {
    const launched = this.inFlight.get(id);
    if (launched) launched.running = false;
    this.inFlight.delete(id);
    if (this.inFlight.size === 0) this.idle();
  }

  // An idle launcher must not keep the backend (or a test) alive; a busy
  // one must, or an awaited helm run could lose its answers.
  private busy() {
    this.child.ref();
    (this.child.channel as { ref?(): void } | undefined)?.ref?.();
  }

  private idle() {
    this.child.unref();
    (this.child.channel as { unref?(): void } | undefined)?.unref?.();
  }
}

let launcher: Launcher | undefined;

/**
 * Starts a process through the shared launcher, starting (or restarting)
 * the launcher when needed.
 */
export function launchProcess(request: LaunchRequest): LaunchedProcess {
  if (!launcher?.alive) {
    launcher = Launcher.start();
  }
  return launcher.launch(request);
}

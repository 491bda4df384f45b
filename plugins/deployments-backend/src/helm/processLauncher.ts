import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';

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
 * of its own in the built package. It exits when the backend goes away,
 * like a pipe closing would end the processes it started.
 */
const LAUNCHER_SOURCE = `
const { spawn } = require('node:child_process');
const children = new Map();
const send = message => { if (process.connected) process.send(message); };
process.on('message', message => {
  if (message.type === 'kill') {
    children.get(message.id)?.kill(message.signal);
    return;
  }
  const { id, binary, args, env, cwd } = message;
  let child;
  try {
    child = spawn(binary, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
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
process.on('disconnect', () => process.exit(0));
`;

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
        windowsHide: true,
      },
    );
    return new Launcher(launcher);
  }

  get alive(): boolean {
    return this.child.connected && this.child.exitCode === null;
  }

  launch(request: LaunchRequest): LaunchedProcess {
    const id = this.nextId++;
    const launched = new LaunchedViaLauncher(signal =>
      this.child.send({ type: 'kill', id, signal }),
    );
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

  /** The launcher died: what it ran is gone with its pipes, as if killed. */
  private lost() {
    for (const [id, launched] of this.inFlight) {
      this.settle(id);
      launched.emit('close', null, 'SIGKILL');
    }
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

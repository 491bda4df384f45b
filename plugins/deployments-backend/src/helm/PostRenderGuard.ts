import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { HelmVersion } from './helmVersion';

/**
 * Decides what helm may send: gets the documents helm rendered (manifest
 * and, on helm 4, hooks) and returns the exact documents helm continues
 * with, or throws to stop helm before anything reaches the cluster. The
 * error's message is shown to the user.
 */
export type PostRenderCheck = (rendered: string) => Promise<string>;

/** The name of the helm 4 post-renderer plugin, and of the helm 3 executable. */
export const GUARD_NAME = 'kubedeploy-guard';
// More than the rendered size cap (8 MiB), so the check, not the relay, refuses large input.
const MAX_RELAY_BYTES = 16 * 1024 * 1024;
const TOKEN_BYTES = 32;

/*
 * The post-renderer helm runs: it relays helm's rendered documents to the
 * backend over a socket in the run's private directory and writes back what
 * the backend answers. The check itself runs in the backend, so there is one
 * implementation of the boundary. Any failure (no backend, a refusal, a
 * broken connection) exits non-zero, and helm stops without sending.
 */
const RELAY_SOURCE = `'use strict';
const net = require('node:net');
const chunks = [];
process.stdin.on('data', c => chunks.push(c));
process.stdin.on('end', () => {
  const socket = net.connect(process.env.KUBEDEPLOY_GUARD_SOCKET);
  const answer = [];
  socket.on('connect', () => {
    socket.write(process.env.KUBEDEPLOY_GUARD_TOKEN + '\\n');
    socket.end(Buffer.concat(chunks));
  });
  socket.on('data', c => answer.push(c));
  socket.on('error', e => { process.stderr.write('kubedeploy guard: ' + e.message + '\\n'); process.exit(2); });
  socket.on('end', () => {
    const all = Buffer.concat(answer);
    const eol = all.indexOf(10);
    const verdict = eol < 0 ? '' : all.subarray(0, eol).toString();
    const body = eol < 0 ? all : all.subarray(eol + 1);
    if (verdict === 'OK') { process.stdout.write(body, () => process.exit(0)); return; }
    process.stderr.write('kubedeploy guard refused the rendered objects: ' + body.toString() + '\\n', () => process.exit(1));
  });
});
`;

/**
 * The enforcement point on what helm sends: a post-renderer (helm 4: a
 * post-renderer plugin, which also receives hooks; helm 3: a
 * `--post-renderer` executable, which receives the manifest only) that
 * helm must pass every rendered document through. Lives in one run's
 * private workspace and only for that run.
 */
export class PostRenderGuard {
  #calls = 0;
  #failure: Error | undefined;
  readonly #connections = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly directory: string,
    private readonly socketPath: string,
    private readonly token: Buffer,
  ) {}

  /** Opens the guard's socket and writes the post-renderer into the workspace directory. */
  static async open(
    workspacePath: string,
    check: PostRenderCheck,
  ): Promise<PostRenderGuard> {
    const directory = join(workspacePath, 'plugins', GUARD_NAME);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const relay = join(directory, 'relay.cjs');
    await writeFile(relay, RELAY_SOURCE, { mode: 0o600 });
    const launcher = join(directory, GUARD_NAME);
    // The node running the backend runs the relay: no other node needs to be on PATH.
    await writeFile(
      launcher,
      `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(relay)}\n`,
      { mode: 0o700 },
    );
    await chmod(launcher, 0o700);
    await writeFile(
      join(directory, 'plugin.yaml'),
      [
        'apiVersion: v1',
        `name: ${GUARD_NAME}`,
        'version: 1.0.0',
        'type: postrenderer/v1',
        'runtime: subprocess',
        'runtimeConfig:',
        '  platformCommand:',
        `    - command: ${JSON.stringify(launcher)}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );

    const token = randomBytes(TOKEN_BYTES);
    const socketPath = join(workspacePath, 'guard.sock');
    // The server's handler needs the guard, which needs the listening server.
    const created: { guard?: PostRenderGuard } = {};
    // Half-open: the relay ends its side after sending, and still reads the answer.
    const server = createServer({ allowHalfOpen: true }, socket => {
      if (!created.guard) {
        socket.destroy();
        return;
      }
      const connections = created.guard.#connections;
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
      created.guard.handle(socket, check).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(socketPath, 0o600);
    created.guard = new PostRenderGuard(server, directory, socketPath, token);
    return created.guard;
  }

  /** The variables helm (and through it the post-renderer) needs; add to helm's environment. */
  environment(version: HelmVersion): Record<string, string> {
    return {
      // helm 3 would try (and fail) to read the helm 4 plugin; it runs the executable by path.
      ...(version.major === 4 && { HELM_PLUGINS: join(this.directory, '..') }),
      KUBEDEPLOY_GUARD_SOCKET: this.socketPath,
      KUBEDEPLOY_GUARD_TOKEN: this.token.toString('hex'),
    };
  }

  /** The flag that makes helm use the guard. */
  flags(version: HelmVersion): string[] {
    return version.major === 4
      ? [`--post-renderer=${GUARD_NAME}`]
      : [`--post-renderer=${join(this.directory, GUARD_NAME)}`];
  }

  /** How often helm ran the post-renderer. */
  get calls(): number {
    return this.#calls;
  }

  /** Why the check refused, when it did: the message helm only saw as the post-renderer failing. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Stops listening and drops any connection still open: helm has exited,
   * so nobody waits for an answer (a check that never settles must not keep
   * the run, and its decrypted files, alive).
   */
  async close(): Promise<void> {
    const closed = new Promise<void>(resolve =>
      this.server.close(() => resolve()),
    );
    for (const socket of this.#connections) {
      socket.destroy();
    }
    await closed;
  }

  private async handle(socket: Socket, check: PostRenderCheck): Promise<void> {
    // Events, not `for await`: the async iterator destroys the socket at the end of input, before the answer.
    const chunks: Buffer[] = [];
    let size = 0;
    const complete = await new Promise<boolean>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RELAY_BYTES) {
          socket.removeAllListeners('data');
          resolve(false);
          return;
        }
        chunks.push(chunk);
      });
      socket.once('end', () => resolve(true));
      socket.once('error', reject);
    });
    if (!complete) {
      socket.end('NO\nthe rendered release is too large');
      return;
    }
    const all = Buffer.concat(chunks);
    const eol = all.indexOf(10);
    const presented = Buffer.from(
      eol < 0 ? '' : all.subarray(0, eol).toString(),
      'hex',
    );
    if (
      presented.length !== this.token.length ||
      !timingSafeEqual(presented, this.token)
    ) {
      socket.end('NO\nnot this run');
      return;
    }
    this.#calls++;
    try {
      const answer = await check(all.subarray(eol + 1).toString('utf8'));
      socket.end(`OK\n${answer}`);
    } catch (error) {
      this.#failure = error as Error;
      socket.end(`NO\n${(error as Error).message}`);
    }
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

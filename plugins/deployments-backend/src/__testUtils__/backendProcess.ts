/*
 * A deployments backend in its own process, so a test can kill it the way a
 * crash or an OOM kill would (the whole process group, helm included) and
 * start another one on the same database.
 *
 * Run as a script, it starts the backend from KD_BACKEND_OPTIONS (JSON) and
 * prints "listening <port>". Imported, it spawns that script.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface BackendProcessOptions {
  /** knex connection settings of the database to use. */
  connection: unknown;
  client: 'pg' | 'better-sqlite3';
  config: Record<string, unknown>;
  entities: unknown[];
}

export interface BackendProcess {
  baseUrl: string;
  pid: number;
  /** SIGKILL to the process group: no shutdown hooks, helm dies too. */
  kill(): Promise<void>;
}

export async function spawnBackendProcess(
  options: BackendProcessOptions,
): Promise<BackendProcess> {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      __filename,
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, KD_BACKEND_OPTIONS: JSON.stringify(options) },
    },
  );
  const exited = new Promise<void>(resolve =>
    child.once('exit', () => resolve()),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error('backend did not start')),
      120_000,
    );
    lines.on('line', line => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', code =>
      reject(new Error(`backend exited with ${code}`)),
    );
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async kill() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await exited;
    },
  };
}

async function main() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const {
    mockServices,
    startTestBackend,
  } = require('@backstage/backend-test-utils');
  const {
    catalogServiceMock,
  } = require('@backstage/plugin-catalog-node/testUtils');
  const knexFactory = require('knex');
  const { deploymentsPlugin } = require('../plugin');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const options: BackendProcessOptions = JSON.parse(
    process.env.KD_BACKEND_OPTIONS!,
  );
  const knex = knexFactory({
    client: options.client,
    connection: options.connection,
    useNullAsDefault: true,
  });
  const { server } = await startTestBackend({
    features: [
      deploymentsPlugin,
      mockServices.database.factory({ knex }),
      mockServices.rootConfig.factory({ data: options.config }),
      catalogServiceMock.factory({ entities: options.entities }),
    ],
  });
  process.stdout.write(`listening ${server.address().port}\n`);
}

if (require.main === module) {
  main().catch(error => {
    process.stderr.write(`${error}\n`);
    process.exit(1);
  });
}

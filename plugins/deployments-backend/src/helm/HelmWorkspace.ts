import { constants } from 'node:fs';
import {
  access,
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  statfs,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isTaggedProcessGone,
  killProcessesWorkingIn,
  processTag,
} from './processGroups';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
/** Every run directory's name starts with this, then the owning process's tag and a dash. */
const PREFIX = 'kubedeploy-helm-';
/** `kubedeploy-helm-<pid>[.<start time>.<pid namespace>]-<mkdtemp's six characters>` */
const RUN_DIR_NAME = /^kubedeploy-helm-(\d+(?:\.\d+\.\d+)?)-[A-Za-z0-9]{6}$/;
const MEMORY_BACKED = '/dev/shm';

/** Free space a memory-backed root must have: a few runs' charts and helm's caches. */
const MIN_MEMORY_BACKED_FREE = 256 * 1024 * 1024;

/**
 * Where run directories go by default: memory-backed `/dev/shm` when it is
 * there, writable, allows executing files (helm runs the post-render guard
 * from the run directory; containers often mount /dev/shm noexec) and has
 * room (Docker's default is 64 MiB), so decrypted kubeconfigs never reach a
 * disk; else the OS temp directory.
 */
export async function defaultWorkRoot(
  options: {
    /** For tests: the memory-backed directory and the mount table. */
    memoryBacked?: string;
    mounts?: string;
  } = {},
): Promise<string> {
  const memoryBacked = options.memoryBacked ?? MEMORY_BACKED;
  try {
    const mountedWith = await mountOptions(
      memoryBacked,
      options.mounts ?? '/proc/mounts',
    );
    if (
      (await stat(memoryBacked)).isDirectory() &&
      mountedWith?.includes('noexec') === false
    ) {
      await access(memoryBacked, constants.W_OK | constants.X_OK);
      const space = await statfs(memoryBacked);
      if (space.bavail * space.bsize >= MIN_MEMORY_BACKED_FREE) {
        return memoryBacked;
      }
    }
  } catch {
    // Not there, or not ours to write.
  }
  return tmpdir();
}

/** The options of the mount `path` is on, from the mount table; undefined when unknown. */
async function mountOptions(
  path: string,
  table: string,
): Promise<string[] | undefined> {
  const mounts = await readFile(table, 'utf8').catch(() => undefined);
  let best: { point: string; options: string[] } | undefined;
  for (const line of mounts?.split('\n') ?? []) {
    const [, point, , options] = line.split(' ');
    if (
      point !== undefined &&
      options !== undefined &&
      (path === point || path.startsWith(point === '/' ? '/' : `${point}/`)) &&
      point.length >= (best?.point.length ?? -1)
    ) {
      best = { point, options: options.split(',') };
    }
  }
  return best?.options;
}

/**
 * Removes the run directories a crashed backend left in `root` (its
 * kubeconfigs and values were decrypted), first killing any process still
 * working in one. Only directories of this user whose name says they are
 * run directories of a process that no longer runs are touched; anything
 * else in `root` (which may be shared, like /dev/shm) is left alone.
 * Returns the names removed.
 */
export async function removeLeftoverWorkspaces(
  root: string,
): Promise<string[]> {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const owner = RUN_DIR_NAME.exec(name)?.[1];
    if (owner === undefined || !isTaggedProcessGone(owner)) {
      continue;
    }
    const path = join(root, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isDirectory() || (uid !== undefined && info.uid !== uid)) {
      continue;
    }
    await killProcessesWorkingIn(path);
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
    removed.push(name);
  }
  return removed;
}

/**
 * A private (0700) directory for one helm run: the kubeconfig, values and
 * chart archive (each 0600), and helm's own config, cache, data and home
 * directories, so that no run sees another's state or the backend's.
 * Removed by dispose(), which callers run in `finally`.
 */
export class HelmWorkspace {
  readonly path: string;

  private constructor(path: string) {
    this.path = path;
  }

  static async create(root: string): Promise<HelmWorkspace> {
    // mkdtemp creates 0700 already; chmod makes that independent of umask quirks.
    // The name says which process owns it, so a later start-up can remove it after a crash.
    const path = await mkdtemp(
      join(root, `${PREFIX}${processTag() ?? process.pid}-`),
    );
    const workspace = new HelmWorkspace(path);
    try {
      await chmod(path, PRIVATE_DIR);
      for (const dir of ['home', 'config', 'cache', 'data', 'tmp']) {
        await mkdir(join(path, dir), { mode: PRIVATE_DIR });
      }
    } catch (error) {
      await workspace.dispose();
      throw error;
    }
    return workspace;
  }

  /** Writes a new private file; refuses to overwrite or follow an existing one. */
  async writeFile(name: string, content: string | Buffer): Promise<string> {
    const file = join(this.path, name);
    await writeFile(file, content, { mode: PRIVATE_FILE, flag: 'wx' });
    await chmod(file, PRIVATE_FILE);
    return file;
  }

  /**
   * The complete environment for helm: PATH to find the binary, the private
   * helm directories and the kubeconfig. Nothing else of the backend's
   * environment (KUBECONFIG, HELM_*, proxies, cloud credentials) reaches helm.
   */
  environment(kubeconfigPath?: string): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: join(this.path, 'home'),
      HELM_CONFIG_HOME: join(this.path, 'config'),
      HELM_CACHE_HOME: join(this.path, 'cache'),
      HELM_DATA_HOME: join(this.path, 'data'),
      // Release records are Secrets, which preflight checks rely on.
      HELM_DRIVER: 'secret',
      TMPDIR: join(this.path, 'tmp'),
      // Without one, helm falls back to $HOME/.kube/config, which is the private, empty home.
      ...(kubeconfigPath !== undefined && { KUBECONFIG: kubeconfigPath }),
    };
  }

  async dispose(): Promise<void> {
    await rm(this.path, { recursive: true, force: true, maxRetries: 3 });
  }
}

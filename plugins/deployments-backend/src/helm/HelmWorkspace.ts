import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

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
    const path = await mkdtemp(join(root, 'kubedeploy-helm-'));
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

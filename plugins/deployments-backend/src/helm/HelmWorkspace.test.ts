import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  defaultWorkRoot,
  HelmWorkspace,
  removeLeftoverWorkspaces,
} from './HelmWorkspace';
import { isProcessAlive, processTag } from './processGroups';

const scratch = mkdtempSync(join(tmpdir(), 'kd-workspace-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The tag of a process that has exited: its pid and start time no longer name a process. */
async function deadProcessTag(): Promise<string> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise(resolve => child.once('spawn', resolve));
  const tag = processTag(child.pid!)!;
  child.kill('SIGKILL');
  await new Promise(resolve => child.once('exit', resolve));
  return tag;
}

describe('HelmWorkspace', () => {
  it('names each run directory after the process that owns it', async () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    const workspace = await HelmWorkspace.create(root);
    expect(basename(workspace.path)).toMatch(
      new RegExp(`^kubedeploy-helm-${processTag()!.replace('.', '\\.')}-`),
    );
    await workspace.dispose();
    expect(readdirSync(root)).toEqual([]);
  });

  it('removes only the run directories of processes that no longer run', async () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    const dead = await deadProcessTag();
    const leftover = join(root, `kubedeploy-helm-${dead}-AbC123`);
    mkdirSync(join(leftover, 'home'), { recursive: true, mode: 0o700 });
    writeFileSync(join(leftover, 'kubeconfig'), 'token: secret', {
      mode: 0o600,
    });
    // Ours, still running: kept.
    const live = await HelmWorkspace.create(root);
    // Not run directories: kept, whatever they hold.
    mkdirSync(join(root, 'kubedeploy-helm-notes'));
    mkdirSync(join(root, 'something-else'));
    writeFileSync(join(root, `kubedeploy-helm-${dead}-file01`), '');
    const elsewhere = mkdtempSync(join(scratch, 'elsewhere-'));
    symlinkSync(elsewhere, join(root, `kubedeploy-helm-${dead}-Link01`));

    expect(await removeLeftoverWorkspaces(root)).toEqual([basename(leftover)]);
    expect(readdirSync(root).sort()).toEqual(
      [
        basename(live.path),
        'kubedeploy-helm-notes',
        'something-else',
        `kubedeploy-helm-${dead}-file01`,
        `kubedeploy-helm-${dead}-Link01`,
      ].sort(),
    );
    expect(readdirSync(scratch)).toContain(basename(elsewhere));
    await live.dispose();
  });

  it('kills a process still working in a leftover run directory before removing it', async () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    const dead = await deadProcessTag();
    const leftover = join(root, `kubedeploy-helm-${dead}-Orphan`);
    mkdirSync(leftover, { mode: 0o700 });
    const orphan = spawn('sleep', ['60'], {
      cwd: leftover,
      detached: true,
      stdio: 'ignore',
    });
    await new Promise(resolve => orphan.once('spawn', resolve));
    const exited = new Promise(resolve => orphan.once('exit', resolve));

    expect(await removeLeftoverWorkspaces(root)).toEqual([basename(leftover)]);
    await exited;
    expect(isProcessAlive(orphan.pid!)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('prefers memory-backed /dev/shm for run directories', async () => {
    const root = await defaultWorkRoot();
    let shmWritable = false;
    try {
      rmSync(mkdtempSync('/dev/shm/kd-probe-'), { recursive: true });
      shmWritable = true;
    } catch {
      // No /dev/shm here.
    }
    expect(root).toBe(shmWritable ? '/dev/shm' : tmpdir());
  });
});

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
      new RegExp(`^kubedeploy-helm-${processTag()!.split('.').join('\\.')}-`),
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

  it('prefers a memory-backed directory that allows executing files, else the OS temp dir', async () => {
    const shm = mkdtempSync(join(scratch, 'shm-'));
    const mounts = join(scratch, 'mounts');
    const mountedWith = (options: string) =>
      writeFileSync(
        mounts,
        [
          'overlay / overlay rw,relatime 0 0',
          `tmpfs ${shm} tmpfs ${options} 0 0`,
          '',
        ].join('\n'),
      );

    mountedWith('rw,nosuid,nodev,relatime');
    expect(await defaultWorkRoot({ memoryBacked: shm, mounts })).toBe(shm);
    // Docker mounts /dev/shm noexec: helm could not run its post-renderer there.
    mountedWith('rw,nosuid,nodev,noexec,relatime');
    expect(await defaultWorkRoot({ memoryBacked: shm, mounts })).toBe(tmpdir());
    // Not there at all.
    expect(
      await defaultWorkRoot({ memoryBacked: join(shm, 'missing'), mounts }),
    ).toBe(tmpdir());
  });

  it('leaves directories of another pid namespace alone: their owners cannot be seen from here', async () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    const [pid, started] = (await deadProcessTag()).split('.');
    const foreign = join(root, `kubedeploy-helm-${pid}.${started}.1-Other1`);
    mkdirSync(foreign);
    expect(await removeLeftoverWorkspaces(root)).toEqual([]);
    expect(readdirSync(root)).toEqual([basename(foreign)]);
  });
});

/*
 * Process handling with small shell scripts standing in for helm: how a run
 * is stopped (SIGTERM first, SIGKILL only after the grace period) and how
 * output is split into lines.
 */
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHelmProcess } from './runHelmProcess';

const dir = mkdtempSync(join(tmpdir(), 'kd-helm-process-'));
const report = join(dir, 'report');

afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => writeFileSync(report, ''));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o700);
  return path;
}

function run(
  binary: string,
  options: Partial<Parameters<typeof runHelmProcess>[0]> = {},
) {
  return runHelmProcess({
    binary,
    args: [],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    deadlineMs: 30_000,
    killGraceMs: 10_000,
    ...options,
  });
}

/** Resolves once the script has written `ready` to the report, so its trap is set. */
async function whenReady(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (readFileSync(report, 'utf8').includes('ready')) {
      return;
    }
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  throw new Error('the script never became ready');
}

describe('runHelmProcess', () => {
  it('cancels with SIGTERM and lets the process finish its cleanup', async () => {
    const binary = script(
      'graceful',
      `trap 'echo TERM >> ${report}; sleep 0.2; echo cleaned up >&2; exit 1' TERM
echo ready >> ${report}
while true; do sleep 0.05; done`,
    );
    const controller = new AbortController();
    const running = run(binary, { signal: controller.signal });
    await whenReady();
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({
      exitCode: 1,
      cancelled: true,
      timedOut: false,
    });
    expect(result.signal).toBeUndefined();
    expect(result.stderr).toContain('cleaned up');
    expect(readFileSync(report, 'utf8')).toBe('ready\nTERM\n');
  });

  it('sends SIGKILL only after the grace period', async () => {
    const binary = script(
      'stubborn',
      `trap 'echo TERM >> ${report}' TERM
echo ready >> ${report}
while true; do sleep 0.05; done`,
    );
    const controller = new AbortController();
    const running = run(binary, {
      signal: controller.signal,
      killGraceMs: 700,
    });
    await whenReady();
    const stopped = Date.now();
    controller.abort();
    const result = await running;
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(650);
    expect(result).toMatchObject({ signal: 'SIGKILL', cancelled: true });
    expect(readFileSync(report, 'utf8')).toBe('ready\nTERM\n');
  });

  it('stops a run that outlives its deadline', async () => {
    const binary = script('slow', 'exec sleep 30');
    const result = await run(binary, { deadlineMs: 300 });
    expect(result).toMatchObject({
      signal: 'SIGTERM',
      timedOut: true,
      cancelled: false,
    });
  });

  it('does not start when cancelled already', async () => {
    const binary = script('quick', `echo ran >> ${report}`);
    const controller = new AbortController();
    controller.abort();
    const result = await run(binary, { signal: controller.signal });
    expect(result).toMatchObject({ cancelled: true, stdout: '' });
    expect(readFileSync(report, 'utf8')).toBe('');
  });

  it('splits output into lines, across chunks and multi-byte characters', async () => {
    const binary = script(
      'chatty',
      `printf 'one\\ntw'; sleep 0.05; printf 'o\\r\\nGrüße\\nlast'
printf 'e1\\ne2\\n' >&2`,
    );
    const out: string[] = [];
    const err: string[] = [];
    const result = await run(binary, {
      onStdoutLine: line => out.push(line),
      onStderrLine: line => err.push(line),
    });
    expect(result.exitCode).toBe(0);
    expect(out).toEqual(['one', 'two', 'Grüße', 'last']);
    expect(err).toEqual(['e1', 'e2']);
    expect(result.stdout).toBe('one\ntwo\r\nGrüße\nlast');
  });

  it('stops a process that prints more than allowed', async () => {
    const binary = script('flood', 'exec yes');
    const result = await run(binary, { maxStdoutBytes: 64 * 1024 });
    expect(result.outputTooLarge).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('rejects when the binary does not exist', async () => {
    await expect(run(join(dir, 'no-such-helm'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

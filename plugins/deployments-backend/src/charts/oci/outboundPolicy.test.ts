import { InputError } from '@backstage/errors';
import { createOutboundPolicy, OutboundPolicyOptions } from './outboundPolicy';

const addresses: Record<string, string[]> = {
  'registry.example.com': ['203.0.113.10'],
  'ghcr.io': ['140.82.112.33', '2606:50c0::1'],
  'sneaky.example.com': ['169.254.169.254'],
  'linklocal.example.com': ['10.0.0.1', 'fe80::1234'],
  'ec2-v6.example.com': ['fd00:ec2::254'],
  localhost: ['127.0.0.1', '::1'],
  'backstage.internal': ['10.1.2.3'],
  'alias.example.com': ['10.1.2.3'],
  'zero.example.com': ['0.0.0.0'],
};

function policy(options: Omit<OutboundPolicyOptions, 'lookup'> = {}) {
  const looked: string[] = [];
  const outbound = createOutboundPolicy({
    ...options,
    lookup: async host => {
      looked.push(host);
      const found = addresses[host];
      if (!found) {
        throw new Error(`ENOTFOUND ${host}`);
      }
      return found;
    },
  });
  return {
    check: (url: string) => outbound.check(new URL(url)),
    lookup: outbound.lookup,
    looked,
  };
}

describe('createOutboundPolicy', () => {
  it('allows an ordinary public registry', async () => {
    const { check, looked } = policy();
    await expect(
      check('https://registry.example.com/v2/'),
    ).resolves.toBeUndefined();
    await expect(check('https://ghcr.io/v2/')).resolves.toBeUndefined();
    expect(looked).toEqual(['registry.example.com', 'ghcr.io']);
  });

  it.each([
    [
      'http://169.254.169.254/latest/meta-data',
      /169\.254\.169\.254 is a cloud metadata address/,
    ],
    ['http://[fd00:ec2::254]/', /cloud metadata address/],
    [
      'http://metadata.google.internal/computeMetadata/v1/',
      /metadata\.google\.internal: it is a cloud metadata host/,
    ],
    ['http://METADATA.google.internal./', /cloud metadata host/],
    [
      'https://sneaky.example.com/',
      /sneaky\.example\.com: 169\.254\.169\.254 is a cloud metadata address/,
    ],
    ['https://ec2-v6.example.com/', /cloud metadata address/],
    ['https://169.254.10.1/', /link-local/],
    ['https://linklocal.example.com/', /fe80::1234 is a link-local address/],
    ['https://[::ffff:169.254.1.1]/', /link-local/],
    ['https://127.0.0.1:5000/', /127\.0\.0\.1 is a loopback address/],
    ['https://[::1]/', /loopback/],
    ['https://localhost/', /loopback/],
    ['https://2130706433/', /loopback/],
    ['https://zero.example.com/', /unspecified/],
    [
      'https://nowhere.example.com/',
      /nowhere\.example\.com: the host name does not resolve/,
    ],
    ['ftp://registry.example.com/', /not http\(s\)/],
  ])('refuses %s', async (url, message) => {
    const { check } = policy();
    await expect(check(url)).rejects.toThrow(InputError);
    await expect(check(url)).rejects.toThrow(message);
  });

  it('allows loopback only when configured, never link-local or metadata', async () => {
    const { check } = policy({ allowLoopback: true });
    await expect(check('http://127.0.0.1:15000/v2/')).resolves.toBeUndefined();
    await expect(check('http://localhost:15000/v2/')).resolves.toBeUndefined();
    await expect(check('http://169.254.169.254/')).rejects.toThrow(/metadata/);
    await expect(check('http://[fe80::1]/')).rejects.toThrow(/link-local/);
  });

  it('applies denylist globs to host and host:port', async () => {
    const { check } = policy({ deny: ['*.example.com', 'ghcr.io:8443'] });
    await expect(check('https://registry.example.com/')).rejects.toThrow(
      /registry\.example\.com: it is on the denylist/,
    );
    await expect(check('https://ghcr.io:8443/')).rejects.toThrow(/denylist/);
    await expect(check('https://ghcr.io/')).resolves.toBeUndefined();
  });

  it('refuses hosts not on the allowlist and does not resolve them', async () => {
    const { check, looked } = policy({ allow: ['ghcr.io', '*.example.com'] });
    await expect(check('https://ghcr.io/')).resolves.toBeUndefined();
    await expect(
      check('https://registry.example.com/'),
    ).resolves.toBeUndefined();
    await expect(check('https://docker.io/')).rejects.toThrow(
      /docker\.io: it is not on the allowlist/,
    );
    // Globs are anchored: a suffix match on a different domain is not enough.
    await expect(check('https://example.com.evil.test/')).rejects.toThrow(
      /allowlist/,
    );
    expect(looked).not.toContain('docker.io');
  });

  it('lets the denylist win over the allowlist', async () => {
    const { check } = policy({ allow: ['*'], deny: ['ghcr.io'] });
    await expect(check('https://ghcr.io/')).rejects.toThrow(/denylist/);
  });

  it('refuses an allowlisted host that resolves to a metadata address', async () => {
    const { check } = policy({ allow: ['sneaky.example.com'] });
    await expect(check('https://sneaky.example.com/')).rejects.toThrow(
      /metadata/,
    );
  });

  it('refuses Backstage itself by name, port and address', async () => {
    const { check } = policy({
      ownHosts: ['backstage.internal:7007', 'Backstage.Example.com'],
      allowLoopback: true,
    });
    await expect(check('http://backstage.internal:7007/api')).rejects.toThrow(
      /backstage\.internal:7007: it is Backstage itself/,
    );
    await expect(check('https://alias.example.com:7007/')).rejects.toThrow(
      /resolves to 10\.1\.2\.3, which is Backstage itself/,
    );
    await expect(check('https://backstage.example.com/')).rejects.toThrow(
      /Backstage itself/,
    );
    // Another port on the same machine is a different service.
    await expect(
      check('https://backstage.internal:5000/'),
    ).resolves.toBeUndefined();
  });

  it('parses bracketed and bare IPv6 own hosts', async () => {
    const { check } = policy({
      ownHosts: ['[::1]:7007', '2606:50c0::1'],
      allowLoopback: true,
    });
    await expect(check('http://[::1]:7007/')).rejects.toThrow(
      /Backstage itself/,
    );
    await expect(check('http://[::1]:5000/')).resolves.toBeUndefined();
    await expect(check('https://ghcr.io/')).rejects.toThrow(/Backstage itself/);
  });
});

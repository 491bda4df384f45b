import { InputError } from '@backstage/errors';
import { createOutboundPolicy, OutboundPolicyOptions } from './outboundPolicy';

const addresses: Record<string, string[]> = {
  'registry.example.com': ['140.82.113.10'],
  'internal.example.com': ['10.20.30.40'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'cgnat.example.com': ['100.64.1.2'],
  'ula.example.com': ['fd12:3456::1'],
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
    checkConnection: outbound.checkConnection,
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
      'https://internal.example.com/',
      /10\.20\.30\.40 is a private address .*deployments\.registries\.allow/,
    ],
    [
      'https://mapped.example.com/',
      /::ffff:127\.0\.0\.1 \(127\.0\.0\.1\) is a loopback address; to allow it, set deployments\.registries\.allowLoopback/,
    ],
    ['https://cgnat.example.com/', /carrier-grade NAT/],
    ['https://ula.example.com/', /fd12:3456::1 is a private address/],
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
      allowedClasses: ['private'],
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

  // Every spelling of a loopback, private or metadata address, written in
  // the URL; each is read as the address it reaches before any check.
  describe.each<[string, string]>([
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[0:0:0:0:0:ffff:7f00:1]', 'loopback'],
    ['[::127.0.0.1]', 'loopback'],
    ['[64:ff9b::7f00:1]', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.0.0.1.', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.0.0.1', 'private'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['167772161', 'private'],
    ['0xc0.0xa8.1.1', 'private'],
    ['172.16.0.1', 'private'],
    ['[fd00::1]', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.169.254', 'cloud metadata'],
    ['[::ffff:a9fe:a9fe]', 'cloud metadata'],
    ['2852039166', 'cloud metadata'],
    ['0251.0376.0251.0376', 'cloud metadata'],
    ['[fe80::1]', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['[::]', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'documentation'],
  ])('the host %s', (host, kind) => {
    const urls = [`http://${host}:7007/v2/`, `oci-as-https://${host}/`].map(u =>
      u.replace('oci-as-https', 'https'),
    );

    it(`is refused as ${kind} for registries`, async () => {
      const { check } = policy();
      for (const url of urls) {
        await expect(check(url)).rejects.toThrow(new RegExp(`is an? ${kind}`));
      }
    });

    const neverAllowed = [
      'cloud metadata',
      'link-local',
      'unspecified',
      'multicast',
      'broadcast',
    ].includes(kind);
    it(`is ${
      neverAllowed ? 'still refused' : 'allowed'
    } by a CIDR in the allow list and for targets`, async () => {
      const registries = policy({
        allow: ['*', '0.0.0.0/0', '::/0'],
        allowLoopback: true,
      });
      const targets = policy({
        allowedClasses: ['private', 'carrier-grade-nat', 'documentation'],
        allowLoopback: true,
        configKey: 'deployments.targets',
      });
      const outcomes = await Promise.all(
        [registries, targets].map(outbound =>
          outbound.check(`https://${host}:6443/`).then(
            () => 'allowed',
            (error: Error) => error.message,
          ),
        ),
      );
      const pattern = neverAllowed ? /never contacted/ : /^allowed$/;
      expect(outcomes).toEqual([
        expect.stringMatching(pattern),
        expect.stringMatching(pattern),
      ]);
    });
  });

  it('refuses every spelling of Backstage on its own port, even with loopback allowed', async () => {
    const { check } = policy({
      ownHosts: ['localhost:7007'],
      allowLoopback: true,
      localAddresses: () => ['127.0.0.1', '::1', '192.168.7.7'],
      allowedClasses: ['private'],
    });
    for (const host of [
      'localhost',
      'LOCALHOST.',
      '127.0.0.1',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:1]',
      '2130706433',
      '0x7f.1',
      '127.1',
      '127.0.0.2',
      '[::1]',
      '192.168.7.7',
      'mapped.example.com',
    ]) {
      await expect({
        host,
        outcome: await check(`http://${host}:7007/v2/`).then(
          () => 'allowed',
          (error: Error) => error.message,
        ),
      }).toEqual({ host, outcome: expect.stringMatching(/Backstage itself/) });
    }
    // The same machine on another port is another service.
    await expect(check('http://[::ffff:127.0.0.1]:15000/')).resolves.toBe(
      undefined,
    );
  });

  it('names the configuration that would allow a refused class', async () => {
    const { check } = policy({ configKey: 'deployments.targets' });
    await expect(check('https://10.0.0.1:6443/')).rejects.toThrow(
      /10\.0\.0\.1 is a private address \(RFC 1918 or IPv6 unique local\); to allow it, list it or a CIDR containing it in deployments\.targets\.allow/,
    );
    await expect(check('https://[::ffff:127.0.0.1]/')).rejects.toThrow(
      /::ffff:7f00:1 \(127\.0\.0\.1\) is a loopback address; to allow it, set deployments\.targets\.allowLoopback/,
    );
  });

  it('allows exactly the configured ranges and refuses denied ones', async () => {
    const { check } = policy({
      allow: ['*.example.com', '10.20.0.0/16'],
      deny: ['10.20.99.0/24', 'fd12::/16'],
    });
    await expect(
      check('https://internal.example.com/'),
    ).resolves.toBeUndefined();
    await expect(check('https://10.20.1.1/')).resolves.toBeUndefined();
    await expect(check('https://[::ffff:10.20.1.1]/')).resolves.toBeUndefined();
    await expect(check('https://10.21.1.1/')).rejects.toThrow(
      /not on the allowlist \(deployments\.registries\.allow\)/,
    );
    await expect(check('https://10.20.99.1/')).rejects.toThrow(
      /10\.20\.99\.1 is on the denylist \(deployments\.registries\.deny\)/,
    );
    await expect(check('https://ula.example.com/')).rejects.toThrow(/denylist/);
    // A name on the allow list does not make a private address allowed.
    await expect(check('https://cgnat.example.com/')).rejects.toThrow(
      /carrier-grade NAT/,
    );
  });

  it('refuses, at connect time, whatever the lookup gives in another spelling', async () => {
    const { lookup } = policy();
    const result = await new Promise<{ error: Error | null }>(resolve =>
      lookup('mapped.example.com', {}, error => resolve({ error })),
    );
    expect(result.error?.message).toMatch(
      /Refusing to connect to mapped\.example\.com: ::ffff:127\.0\.0\.1 \(127\.0\.0\.1\) is a loopback address/,
    );
  });

  it('checks the address and port a connection reached', async () => {
    const { checkConnection } = policy({
      ownHosts: ['localhost:7007'],
      allowLoopback: true,
    });
    await expect(checkConnection('::ffff:127.0.0.1', 7007)).resolves.toMatch(
      /Backstage itself/,
    );
    await expect(
      checkConnection('::ffff:127.0.0.1', 15000),
    ).resolves.toBeUndefined();
    await expect(
      checkConnection('::ffff:169.254.169.254', 80),
    ).resolves.toMatch(/cloud metadata/);
  });
});

import {
  AddressClass,
  canonicalAddress,
  classifyAddress,
  inRange,
  normalizeHost,
  parseAddressRange,
} from './networkAddress';

describe('canonicalAddress and classifyAddress', () => {
  // Each hostile spelling, the address it reaches, and that address's class.
  it.each<[string, string, AddressClass]>([
    ['127.0.0.1', '127.0.0.1', 'loopback'],
    ['[::ffff:127.0.0.1]', '127.0.0.1', 'loopback'],
    ['::ffff:127.0.0.1', '127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', '127.0.0.1', 'loopback'],
    ['[::FFFF:7F00:1]', '127.0.0.1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', '127.0.0.1', 'loopback'],
    ['::ffff:0:7f00:1', '127.0.0.1', 'loopback'],
    ['::127.0.0.1', '127.0.0.1', 'loopback'],
    ['::7f00:1', '127.0.0.1', 'loopback'],
    ['64:ff9b::127.0.0.1', '127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254', 'metadata'],
    ['2130706433', '127.0.0.1', 'loopback'],
    ['0x7f000001', '127.0.0.1', 'loopback'],
    ['0x7f.1', '127.0.0.1', 'loopback'],
    ['0X7F.0.0.1', '127.0.0.1', 'loopback'],
    ['127.1', '127.0.0.1', 'loopback'],
    ['127.0.1', '127.0.0.1', 'loopback'],
    ['0177.0.0.1', '127.0.0.1', 'loopback'],
    ['017700000001', '127.0.0.1', 'loopback'],
    ['127.0.0.1.', '127.0.0.1', 'loopback'],
    ['127.254.3.4', '127.254.3.4', 'loopback'],
    ['::1', '::1', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', '::1', 'loopback'],
    ['0', '0.0.0.0', 'unspecified'],
    ['0.0.0.0', '0.0.0.0', 'unspecified'],
    ['::', '::', 'unspecified'],
    ['::ffff:0.0.0.0', '0.0.0.0', 'unspecified'],
    ['169.254.169.254', '169.254.169.254', 'metadata'],
    ['2852039166', '169.254.169.254', 'metadata'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', '169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'fd00:ec2::254', 'metadata'],
    ['FD00:EC2:0:0:0:0:0:254', 'fd00:ec2::254', 'metadata'],
    ['100.100.100.200', '100.100.100.200', 'metadata'],
    ['169.254.10.1', '169.254.10.1', 'link-local'],
    ['fe80::1%eth0', 'fe80::1', 'link-local'],
    ['[fe80::1%25eth0]', 'fe80::1', 'link-local'],
    ['FE80::abcd', 'fe80::abcd', 'link-local'],
    ['10.1.2.3', '10.1.2.3', 'private'],
    ['012.1.2.3', '10.1.2.3', 'private'],
    ['167772161', '10.0.0.1', 'private'],
    ['::ffff:10.0.0.1', '10.0.0.1', 'private'],
    ['172.31.255.1', '172.31.255.1', 'private'],
    ['192.168.1.1', '192.168.1.1', 'private'],
    ['192.168.257', '192.168.1.1', 'private'],
    ['fd12:3456::1', 'fd12:3456::1', 'private'],
    ['fc00::1', 'fc00::1', 'private'],
    ['100.64.0.1', '100.64.0.1', 'carrier-grade-nat'],
    ['100.127.255.254', '100.127.255.254', 'carrier-grade-nat'],
    ['224.0.0.1', '224.0.0.1', 'multicast'],
    ['ff02::1', 'ff02::1', 'multicast'],
    ['255.255.255.255', '255.255.255.255', 'broadcast'],
    ['4294967295', '255.255.255.255', 'broadcast'],
    ['240.0.0.1', '240.0.0.1', 'reserved'],
    ['198.18.0.1', '198.18.0.1', 'reserved'],
    ['192.0.2.1', '192.0.2.1', 'documentation'],
    ['203.0.113.7', '203.0.113.7', 'documentation'],
    ['2001:db8::1', '2001:db8::1', 'documentation'],
    ['140.82.112.33', '140.82.112.33', 'public'],
    ['::ffff:8.8.8.8', '8.8.8.8', 'public'],
    ['2606:50c0::1', '2606:50c0::1', 'public'],
    ['172.32.0.1', '172.32.0.1', 'public'],
    ['100.128.0.1', '100.128.0.1', 'public'],
  ])('%s is %s, %s', (host, address, kind) => {
    expect(canonicalAddress(host)).toBe(address);
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each([
    'registry.example.com',
    'localhost',
    'ghcr.io',
    '1.2.3.4.5',
    '08.0.0.1',
    '256.0.0.1',
    '4294967296',
    '0x1.example.com',
    '',
  ])('%p is not an address', host => {
    expect(canonicalAddress(host)).toBeUndefined();
  });
});

describe('normalizeHost', () => {
  it.each([
    ['Registry.Example.COM.', 'registry.example.com'],
    ['localhost..', 'localhost'],
    ['[::ffff:127.0.0.1]', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['[fe80::1%25eth0]', 'fe80::1'],
  ])('%s is %s', (host, normalized) => {
    expect(normalizeHost(host)).toBe(normalized);
  });
});

describe('parseAddressRange', () => {
  it('reads CIDRs and single addresses in any spelling', () => {
    const ten = parseAddressRange('10.0.0.0/8')!;
    expect(inRange('10.200.1.1', ten)).toBe(true);
    expect(inRange('11.0.0.1', ten)).toBe(false);
    const one = parseAddressRange('10.1.2.3')!;
    expect(inRange('10.1.2.3', one)).toBe(true);
    expect(inRange('10.1.2.4', one)).toBe(false);
    const mapped = parseAddressRange('::ffff:10.0.0.0/104')!;
    expect(inRange('10.9.9.9', mapped)).toBe(true);
    const ula = parseAddressRange('fd00::/8')!;
    expect(inRange('fd12::1', ula)).toBe(true);
    expect(inRange('10.0.0.1', ula)).toBe(false);
  });

  it.each(['10.0.0.0/33', 'fd00::/129', 'registry.example.com', '10.0.0.0/x'])(
    'refuses %p',
    text => {
      expect(parseAddressRange(text)).toBeUndefined();
    },
  );
});

import { isIP } from 'node:net';

/**
 * What kind of network an address belongs to, for the outbound policy.
 * IPv4 addresses embedded in IPv6 ones (mapped, compatible, NAT64) are
 * classified as the IPv4 address they reach.
 */
export type AddressClass =
  | 'public'
  | 'private'
  | 'carrier-grade-nat'
  | 'loopback'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'reserved';

/** How each class is named in messages. */
export const ADDRESS_CLASS_DESCRIPTIONS: Record<AddressClass, string> = {
  public: 'a public address',
  private: 'a private address (RFC 1918 or IPv6 unique local)',
  'carrier-grade-nat': 'a carrier-grade NAT address (100.64.0.0/10)',
  loopback: 'a loopback address',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
  documentation: 'a documentation address',
  reserved: 'a reserved address',
};

/** An IP address in bytes: 4 for IPv4, 16 for IPv6. */
type AddressBytes = number[];

/** A CIDR range, as configured in an allow or deny list. */
export interface AddressRange {
  bytes: AddressBytes;
  prefix: number;
}

function parseIpv4Number(part: string): number | undefined {
  if (part === '') {
    return undefined;
  }
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(digits)) {
    digits = digits.slice(2);
    radix = 16;
    // WHATWG reads a bare "0x" as zero.
    if (digits === '') {
      return 0;
    }
  } else if (digits.length > 1 && digits.startsWith('0')) {
    digits = digits.slice(1);
    radix = 8;
  }
  const valid = { 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-f]+$/i }[radix]!;
  if (!valid.test(digits)) {
    return undefined;
  }
  return parseInt(digits, radix);
}

/**
 * Reads an IPv4 address the way WHATWG URL parsing and inet_aton do: one to
 * four dot-separated parts, each decimal, octal (leading 0) or hexadecimal
 * (0x), the last one filling the remaining bytes (`127.1`, `2130706433`,
 * `0x7f.1`, `0177.0.0.1`).
 */
function parseIpv4(host: string): AddressBytes | undefined {
  const parts = host.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') {
    parts.pop();
  }
  if (parts.length === 0 || parts.length > 4) {
    return undefined;
  }
  const numbers: number[] = [];
  for (const part of parts) {
    const value = parseIpv4Number(part);
    if (value === undefined) {
      return undefined;
    }
    numbers.push(value);
  }
  const last = numbers.pop()!;
  if (numbers.some(n => n > 255) || last >= 256 ** (4 - numbers.length)) {
    return undefined;
  }
  const bytes = [...numbers];
  for (let i = 4 - numbers.length - 1; i >= 0; i--) {
    bytes.push(Math.floor(last / 256 ** i) % 256);
  }
  return bytes;
}

function parseIpv6(host: string): AddressBytes | undefined {
  if (isIP(host) !== 6) {
    return undefined;
  }
  let text = host;
  const groups: number[] = [];
  // A trailing dotted IPv4 part (::ffff:127.0.0.1) is two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (dotted) {
    const v4 = parseIpv4(dotted[2])!;
    tail = [v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]];
    text = dotted[1].endsWith('::') ? dotted[1] : dotted[1].slice(0, -1);
  }
  const [head, rest] = text.split('::');
  const toGroups = (s: string | undefined) =>
    s ? s.split(':').map(g => parseInt(g, 16)) : [];
  const before = toGroups(head);
  const after = [...toGroups(rest), ...tail];
  const missing = 8 - before.length - after.length;
  groups.push(
    ...before,
    ...new Array(rest === undefined ? 0 : missing).fill(0),
    ...after,
  );
  if (groups.length !== 8) {
    return undefined;
  }
  return groups.flatMap(g => [g >> 8, g & 0xff]);
}

function startsWith(bytes: AddressBytes, prefix: number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

/**
 * The IPv4 address an IPv6 address reaches, when it embeds one: mapped
 * (::ffff:a.b.c.d), translated (::ffff:0:a.b.c.d), compatible (::a.b.c.d,
 * deprecated but still routed by some stacks) and the NAT64 well-known
 * prefix (64:ff9b::a.b.c.d), which a NAT64 gateway forwards to IPv4.
 */
function embeddedIpv4(bytes: AddressBytes): AddressBytes | undefined {
  const zeros = (n: number) => new Array(n).fill(0);
  const last4 = bytes.slice(12);
  if (startsWith(bytes, [...zeros(10), 0xff, 0xff])) {
    return last4;
  }
  if (startsWith(bytes, [...zeros(8), 0xff, 0xff, 0, 0])) {
    return last4;
  }
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, ...zeros(8)])) {
    return last4;
  }
  // ::a.b.c.d, but not :: and ::1, which are IPv6's own.
  if (startsWith(bytes, zeros(12)) && last4.slice(0, 3).some(b => b !== 0)) {
    return last4;
  }
  if (startsWith(bytes, zeros(12)) && last4[3] > 1) {
    return last4;
  }
  return undefined;
}

function format(bytes: AddressBytes): string {
  if (bytes.length === 4) {
    return bytes.join('.');
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  // The longest run of two or more zero groups becomes '::' (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) {
      best = { start: i, length: j - i };
    }
    i = j;
  }
  if (best.start < 0) {
    return groups.join(':');
  }
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

/**
 * A host as it will be connected to: lower case, without brackets, an IPv6
 * zone id or trailing dots.
 */
export function normalizeHost(host: string): string {
  let text = host.trim().toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) {
    text = text.slice(1, -1);
  }
  // fe80::1%eth0 (or %25eth0 as written in URLs): the zone picks an interface.
  const zone = text.indexOf('%');
  if (zone >= 0 && text.includes(':')) {
    text = text.slice(0, zone);
  }
  text = text.replace(/\.+$/, '');
  return parseAddressBytes(text) ? canonicalAddress(text)! : text;
}

function parseAddressBytes(host: string): AddressBytes | undefined {
  if (host.includes(':')) {
    return parseIpv6(host);
  }
  return parseIpv4(host);
}

/**
 * The address a host string stands for, in canonical form, or undefined for
 * a host name. Every spelling of an IPv4 address, IPv4 embedded in IPv6
 * included, gives the dotted IPv4 form: `[::ffff:127.0.0.1]`,
 * `::ffff:7f00:1`, `2130706433`, `0x7f.1` and `127.1` all give `127.0.0.1`.
 */
export function canonicalAddress(host: string): string | undefined {
  let text = host.trim().toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) {
    text = text.slice(1, -1);
  }
  const zone = text.indexOf('%');
  if (zone >= 0 && text.includes(':')) {
    text = text.slice(0, zone);
  }
  const bytes = parseAddressBytes(text);
  if (!bytes) {
    return undefined;
  }
  return format(bytes.length === 16 ? embeddedIpv4(bytes) ?? bytes : bytes);
}

interface ClassRange {
  range: AddressRange;
  class: AddressClass;
}

/** A range written as CIDR (`10.0.0.0/8`, `fc00::/7`) or a single address. */
export function parseAddressRange(text: string): AddressRange | undefined {
  const [address, prefixText, ...extra] = text.trim().split('/');
  if (extra.length > 0) {
    return undefined;
  }
  const canonical = canonicalAddress(address);
  if (!canonical) {
    return undefined;
  }
  const bytes = parseAddressBytes(canonical)!;
  const written = address.includes(':') ? 128 : 32;
  if (prefixText === undefined) {
    return { bytes, prefix: bytes.length * 8 };
  }
  if (!/^\d+$/.test(prefixText) || Number(prefixText) > written) {
    return undefined;
  }
  const prefix = Number(prefixText);
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8.
  if (bytes.length === 4 && written === 128) {
    return prefix >= 96 ? { bytes, prefix: prefix - 96 } : undefined;
  }
  return { bytes, prefix };
}

/** Whether a canonical address lies in a range. */
export function inRange(address: string, range: AddressRange): boolean {
  const bytes = parseAddressBytes(address);
  if (!bytes || bytes.length !== range.bytes.length) {
    return false;
  }
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (range.bytes[i] & mask)) {
      return false;
    }
  }
  return true;
}

const CLASS_RANGES: ClassRange[] = (
  [
    // Most specific first: the metadata addresses sit inside link-local and ULA.
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'], // ECS task metadata
    ['100.100.100.200', 'metadata'], // Alibaba Cloud
    ['fd00:ec2::254', 'metadata'], // AWS over IPv6
    ['fd20:ce::254', 'metadata'], // Google Cloud over IPv6
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0/8', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.0/8', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['fe80::/10', 'link-local'],
    ['10.0.0.0/8', 'private'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['fc00::/7', 'private'],
    ['64:ff9b:1::/48', 'private'], // local-use NAT64 (RFC 8215)
    ['100.64.0.0/10', 'carrier-grade-nat'],
    ['224.0.0.0/4', 'multicast'],
    ['ff00::/8', 'multicast'],
    ['192.0.2.0/24', 'documentation'],
    ['198.51.100.0/24', 'documentation'],
    ['203.0.113.0/24', 'documentation'],
    ['2001:db8::/32', 'documentation'],
    ['3fff::/20', 'documentation'],
    ['240.0.0.0/4', 'reserved'],
    ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
    ['198.18.0.0/15', 'reserved'], // benchmarking
    ['100::/64', 'reserved'], // discard-only
    ['fec0::/10', 'reserved'], // deprecated site-local
    // The rest of ::/8 holds only the special forms above.
    ['::/8', 'reserved'],
  ] as const
).map(([range, kind]) => ({ range: parseAddressRange(range)!, class: kind }));

/** The class of a canonical address (see {@link canonicalAddress}). */
export function classifyAddress(address: string): AddressClass {
  for (const entry of CLASS_RANGES) {
    if (inRange(address, entry.range)) {
      return entry.class;
    }
  }
  return 'public';
}

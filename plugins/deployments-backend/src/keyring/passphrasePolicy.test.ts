import {
  describeWeakPassphrase,
  MAX_PASSPHRASE_LENGTH,
  normalizePassphrase,
  PASSPHRASE_RULE,
} from './passphrasePolicy';

describe('describeWeakPassphrase', () => {
  it.each([
    ['12 characters, 3 kinds', 'Tr0ub4dor&3x'],
    ['12 characters, 4 kinds', 'vK7#mQ2$zL9p'],
    ['12 characters, upper, lower and a space', 'Blue Heron Xq'],
    ['20 characters of one kind', 'correcthorsebatterys'],
    ['a long lower-case sentence', 'correct horse battery staple'],
    ['a common word inside a longer passphrase', 'my password is Xq7 and more'],
    ['non-ASCII letters', 'Ünïcödé-Päss-Wörd1'],
    [
      '20 characters of letters without case',
      '我的密码很长很长很长但是很安全的一句话啊',
    ],
    [
      'exactly the maximum length',
      'Ab1!'.repeat(3) + 'x'.repeat(MAX_PASSPHRASE_LENGTH - 12),
    ],
  ])('accepts %s', (_, passphrase) => {
    expect(describeWeakPassphrase(passphrase)).toBeUndefined();
  });

  it.each([
    ['empty', '', /no passphrase/],
    ['too short', 'Ab1!xyz', /only 7 characters/],
    ['11 characters of 4 kinds', 'vK7#mQ2$zL9', /only 11 characters/],
    ['12 characters of 2 kinds', 'abcdefgh1357', /only 2 of the 4 kinds/],
    ['19 lower-case letters', 'correcthorsebattery', /only 1 of the 4 kinds/],
    [
      'a single repeated character',
      'a'.repeat(24),
      /single repeated character/,
    ],
    ['a single repeated symbol', '#'.repeat(12), /single repeated character/],
    ['a repeated short pattern', 'Ab1!Ab1!Ab1!', /short pattern/],
    ['a repeated pattern of any case', 'xY9-Xy9-xy9-XY9-', /short pattern/],
    ['the alphabet', 'abcdefghijklmnopqrstuvwxyz', /common sequences/],
    ['digits counting up and down', '01234567890987654321', /common sequences/],
    [
      'digits then letters counting down',
      '9876543210zyxwvutsrq',
      /common sequences/,
    ],
    [
      'digits counting up, over and over',
      '12345678901234567890',
      /short pattern/,
    ],
    ['a keyboard row', 'QWERTYuiop[]', /common sequences/],
    ['sequences of 3 kinds', 'Abcdef123456!', /common sequences/],
    ['sequences of 4 kinds', 'Abc123!@#Xyz', /common sequences/],
    ['keyboard columns', '1Qaz2Wsx3Edc', /common sequences/],
    ['a common word with additions', 'Password123!', /common words/],
    ['a look-alike common word with a year', 'P@ssw0rd2024!', /common words/],
    ['a common word with a year', 'Welcome2024!!', /common words/],
    ['the product name', 'Kubedeploy123!', /common words/],
    [
      'more than the maximum length',
      'Ab1!'.repeat(3) + 'x'.repeat(MAX_PASSPHRASE_LENGTH - 11),
      /longer than 1024/,
    ],
    ['a huge input', 'x'.repeat(10_000_000), /longer than 1024/],
  ])('refuses %s', (_, passphrase, reason) => {
    const message = describeWeakPassphrase(passphrase);
    expect(message).toMatch(reason);
    expect(message).toContain(PASSPHRASE_RULE);
  });

  it('never repeats the passphrase in its message', () => {
    const passphrase = 'Password123!';
    expect(describeWeakPassphrase(passphrase)).not.toContain(passphrase);
  });

  it('refuses a value that is not a string', () => {
    expect(describeWeakPassphrase(undefined as unknown as string)).toMatch(
      /no passphrase/,
    );
  });

  it('judges the NFC form, so composed and decomposed spellings agree', () => {
    const composed = 'Crème-Brûlée-42';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect(normalizePassphrase(decomposed)).toBe(composed);
    expect(describeWeakPassphrase(decomposed)).toBe(
      describeWeakPassphrase(composed),
    );
  });

  it('states the rule in a readable sentence', () => {
    expect(PASSPHRASE_RULE).toMatch(/^at least 12 characters/);
    expect(PASSPHRASE_RULE).toContain('at least 20 characters of any kind');
  });
});

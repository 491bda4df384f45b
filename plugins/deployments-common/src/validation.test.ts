import {
  describeInvalidNamespace,
  describeInvalidReleaseName,
} from './validation';

describe('describeInvalidReleaseName', () => {
  it.each(['hello', 'a', 'team-a-api', 'x1', 'a'.repeat(53)])(
    'accepts %s',
    name => {
      expect(describeInvalidReleaseName(name)).toBeUndefined();
    },
  );

  it.each([
    ['', /empty/],
    ['a'.repeat(54), /longer than 53/],
    ['Hello', /lower case/],
    ['-hello', /start and end/],
    ['hello-', /start and end/],
    ['hello_world', /lower case/],
    ['hello.world', /lower case/],
  ])('refuses %j', (name, message) => {
    expect(describeInvalidReleaseName(name)).toMatch(message);
  });
});

describe('describeInvalidNamespace', () => {
  it('accepts a 63-character label and refuses 64', () => {
    expect(describeInvalidNamespace('a'.repeat(63))).toBeUndefined();
    expect(describeInvalidNamespace('a'.repeat(64))).toMatch(/63/);
  });

  it('refuses upper case and dots', () => {
    expect(describeInvalidNamespace('Team-A')).toBeDefined();
    expect(describeInvalidNamespace('team.a')).toBeDefined();
  });
});

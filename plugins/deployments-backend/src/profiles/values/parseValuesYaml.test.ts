import { checkValues, parseValuesYaml } from './parseValuesYaml';

describe('parseValuesYaml', () => {
  it('parses plain values', () => {
    expect(
      parseValuesYaml(
        'replicaCount: 2\nimage:\n  tag: "1.27"\nenv: [{name: A, value: b}]',
      ),
    ).toEqual({
      replicaCount: 2,
      image: { tag: '1.27' },
      env: [{ name: 'A', value: 'b' }],
    });
    expect(parseValuesYaml('')).toEqual({});
  });

  it('refuses a YAML alias bomb fast', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    const start = Date.now();
    expect(() => parseValuesYaml(lines.join('\n'))).toThrow(/refused|alias/i);
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('refuses an oversize document before parsing it', () => {
    const start = Date.now();
    expect(() => parseValuesYaml(`a: "${'x'.repeat(300 * 1024)}"`)).toThrow(
      /larger than/,
    );
    expect(Date.now() - start).toBeLessThan(200);
  });

  it.each([
    ['duplicate keys', 'a: 1\na: 2', /not valid YAML/],
    ['custom tags', 'a: !!js/function "function(){}"', /tag|not valid/],
    ['local tags', 'a: !secret x', /tag|not valid/],
    ['prototype keys', '__proto__: {polluted: true}', /__proto__/],
    ['nested constructor', 'a:\n  constructor: {prototype: 1}', /constructor/],
    ['a list root', '- a\n- b', /map/],
    ['a scalar root', 'just text', /map/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseValuesYaml(text)).toThrow(message);
  });

  it('refuses deep nesting and never echoes values in messages', () => {
    const deep = Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i)}k${i}:`)
      .join('\n')
      .concat(' secret-value');
    let message = '';
    try {
      parseValuesYaml(deep);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/deeper than/);
    expect(message).not.toContain('secret-value');
  });

  it('applies the same rules to JSON values', () => {
    expect(() => checkValues(JSON.parse('{"__proto__": {"x": 1}}'))).toThrow(
      /__proto__/,
    );
    expect(() => checkValues([1, 2])).toThrow(/map/);
    expect(checkValues({ a: [1, { b: true }] })).toEqual({
      a: [1, { b: true }],
    });
  });
});

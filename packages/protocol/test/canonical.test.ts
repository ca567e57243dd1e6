import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson, MAX_DEPTH, parseStrictJson } from '../src/index.js';
import { expectCode } from './helpers.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and emits no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: -5 } })).toBe(
      '{"a":{"c":-5,"d":[true,null,"x"]},"b":1}',
    );
  });

  it('encodes objects with the same members identically whatever their insertion order', () => {
    const one = { z: 1, y: 'é😀', x: [1, 2] };
    const two = { x: [1, 2], y: 'é😀', z: 1 };
    expect(canonicalBytes(one)).toEqual(canonicalBytes(two));
  });

  it('sorts keys by UTF-16 code units as RFC 8785 does', () => {
    expect(canonicalJson({ '\u00e9': 1, z: 2, Z: 3, '😀': 4, '\uffff': 5 })).toBe(
      '{"Z":3,"z":2,"é":1,"😀":4,"\uffff":5}',
    );
  });

  it('encodes strings as UTF-8 with JSON escapes only where required', () => {
    expect(new TextDecoder().decode(canonicalBytes('a"\\\n\u0001é'))).toBe('"a\\"\\\\\\n\\u0001é"');
  });

  it('accepts the largest safe integers and null-prototype objects', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.n = Number.MAX_SAFE_INTEGER;
    bare.m = Number.MIN_SAFE_INTEGER;
    expect(canonicalJson(bare)).toBe('{"m":-9007199254740991,"n":9007199254740991}');
  });

  it.each([
    ['a float', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an unsafe integer', 2 ** 53],
    ['negative zero', -0],
    ['undefined', undefined],
    ['a bigint', 1n],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a Date', new Date(0)],
    ['a Uint8Array', new Uint8Array(1)],
    ['a Map', new Map()],
    ['a lone surrogate', '\ud800'],
    ['a lone surrogate in a key', { '\udc00': 1 }],
    ['undefined inside an object', { a: undefined }],
    ['a float inside an array', [1, 2.5]],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
    ['a sparse array', [1, , 3]],
    ['a symbol-keyed object', { [Symbol('k')]: 1 }],
    [
      'a class instance',
      new (class Point {
        x = 1;
      })(),
    ],
  ])('refuses %s', (_name, value) => {
    expectCode(() => canonicalJson(value), 'MALFORMED_REQUEST');
  });

  it('refuses cycles and nesting deeper than MAX_DEPTH', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectCode(() => canonicalJson(cyclic), 'MALFORMED_REQUEST');
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH; i++) deep = [deep];
    expectCode(() => canonicalJson(deep), 'MALFORMED_REQUEST');
  });

  it('refuses non-enumerable properties, which would otherwise be silently left unsigned', () => {
    const hidden = {};
    Object.defineProperty(hidden, 'secret', { value: 1, enumerable: false });
    expectCode(() => canonicalJson(hidden), 'MALFORMED_REQUEST');
  });
});

describe('parseStrictJson', () => {
  it('parses what canonicalJson writes back to an equal value', () => {
    const value = { a: [1, -2, 'x', true, false, null, {}], b: { '': [] }, c: 'é\n😀' };
    expect(parseStrictJson(canonicalJson(value))).toEqual(value);
  });

  it('accepts insignificant whitespace', () => {
    expect(parseStrictJson(' { "a" : [ 1 , 2 ] } \n')).toEqual({ a: [1, 2] });
  });

  it('keeps __proto__ as an ordinary key instead of changing the prototype', () => {
    const parsed = parseStrictJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['duplicate keys', '{"a":1,"a":2}'],
    ['duplicate keys in a nested object', '{"x":{"k":1,"k":1}}'],
    ['a float', '{"a":1.0}'],
    ['an exponent', '[1e3]'],
    ['an unsafe integer', '[9007199254740993]'],
    ['a leading zero', '[01]'],
    ['trailing characters', '{} x'],
    ['a trailing comma', '[1,]'],
    ['a raw control character in a string', '["a\u0001"]'],
    ['a bad escape', '["\\x41"]'],
    ['single quotes', "['a']"],
    ['an empty text', ''],
    ['truncated text', '{"a":[1,2'],
    ['NaN', '[NaN]'],
  ])('refuses %s', (_name, text) => {
    expectCode(() => parseStrictJson(text), 'MALFORMED_REQUEST');
  });

  it('refuses nesting deeper than MAX_DEPTH', () => {
    expectCode(
      () => parseStrictJson('['.repeat(MAX_DEPTH + 2) + ']'.repeat(MAX_DEPTH + 2)),
      'MALFORMED_REQUEST',
    );
  });
});

import { ProtocolError } from './errors.js';

/**
 * Canonical JSON: the exact bytes that get signed. One value has one encoding, so signer and
 * verifier agree without sharing a serialiser:
 * - object keys sorted by UTF-16 code units (as RFC 8785), no whitespace;
 * - only strings, safe integers, booleans, null, arrays and plain objects;
 * - floats, -0, NaN, ±Infinity, undefined, bigint, functions, symbols, class instances, lone
 *   surrogates, cycles and nesting deeper than MAX_DEPTH are refused (MALFORMED_REQUEST).
 * Protocol payloads never need a float; refusing them avoids float-formatting differences.
 */
export const MAX_DEPTH = 16;

const LONE_SURROGATE_RE = /\p{Cs}/u;
const encoder = new TextEncoder();

export function canonicalJson(value: unknown): string {
  return encode(value, 0, '$');
}

export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

function fail(path: string, why: string): never {
  throw new ProtocolError('MALFORMED_REQUEST', `not canonical JSON at ${path}: ${why}`);
}

function encodeString(text: string, path: string): string {
  if (LONE_SURROGATE_RE.test(text)) fail(path, 'string holds a lone surrogate');
  return JSON.stringify(text);
}

function encode(value: unknown, depth: number, path: string): string {
  if (depth > MAX_DEPTH) fail(path, `nesting deeper than ${MAX_DEPTH}`);
  switch (typeof value) {
    case 'string':
      return encodeString(value, path);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) fail(path, `${value} is not a safe integer`);
      if (Object.is(value, -0)) fail(path, '-0 is not allowed');
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items: string[] = [];
        // Index loop, not map(): map skips holes, and a sparse array must be refused.
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) fail(`${path}[${i}]`, 'sparse array');
          items.push(encode(value[i] as unknown, depth + 1, `${path}[${i}]`));
        }
        return `[${items.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) fail(path, 'not a plain object');
      if (Object.getOwnPropertySymbols(value).length > 0) fail(path, 'symbol keys');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      if (keys.length !== Object.getOwnPropertyNames(record).length) fail(path, 'non-enumerable keys');
      const members = keys.map((key) => {
        const memberPath = `${path}.${key}`;
        return `${encodeString(key, memberPath)}:${encode(record[key], depth + 1, memberPath)}`;
      });
      return `{${members.join(',')}}`;
    }
    default:
      return fail(path, `${typeof value} is not a JSON value`);
  }
}

/**
 * Parses JSON text from the wire, refusing what JSON.parse lets through silently: duplicate keys
 * (JSON.parse keeps the last, another parser may keep the first), non-integer numbers and nesting
 * deeper than MAX_DEPTH. Objects are built with own data properties, so `__proto__` stays a key.
 */
export function parseStrictJson(text: string): unknown {
  const parser = new StrictParser(text);
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('trailing characters');
  return value;
}

// JSON (RFC 8259 §7) forbids raw U+0000..U+001F inside strings, so the class must name them.
// eslint-disable-next-line no-control-regex
const STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const INTEGER_RE = /-?(?:0|[1-9][0-9]*)(?![.eE0-9])/y;
const LITERAL_RE = /true|false|null/y;

class StrictParser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(why: string): never {
    throw new ProtocolError('MALFORMED_REQUEST', `invalid JSON at offset ${this.pos}: ${why}`);
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text.charAt(this.pos))) this.pos++;
  }

  private match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m === null) return undefined;
    this.pos = re.lastIndex;
    return m[0];
  }

  private expect(char: string): void {
    this.skipWhitespace();
    if (this.text.charAt(this.pos) !== char) this.fail(`expected '${char}'`);
    this.pos++;
  }

  private parseString(): string {
    const token = this.match(STRING_RE);
    if (token === undefined) this.fail('expected a string');
    return JSON.parse(token) as string;
  }

  parseValue(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.skipWhitespace();
    const c = this.text.charAt(this.pos);
    if (c === '{') return this.parseObject(depth);
    if (c === '[') return this.parseArray(depth);
    if (c === '"') return this.parseString();
    const literal = this.match(LITERAL_RE);
    if (literal !== undefined) return literal === 'null' ? null : literal === 'true';
    const integer = this.match(INTEGER_RE);
    if (integer === undefined) this.fail('expected a JSON value (numbers must be integers)');
    const n = Number(integer);
    if (!Number.isSafeInteger(n)) this.fail(`${integer} is not a safe integer`);
    return n;
  }

  private parseArray(depth: number): unknown[] {
    this.pos++;
    const items: unknown[] = [];
    this.skipWhitespace();
    if (this.text.charAt(this.pos) === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      if (this.text.charAt(this.pos) === ']') {
        this.pos++;
        return items;
      }
      this.expect(',');
    }
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.pos++;
    const entries = new Map<string, unknown>();
    this.skipWhitespace();
    if (this.text.charAt(this.pos) === '}') {
      this.pos++;
      return {};
    }
    for (;;) {
      this.skipWhitespace();
      const key = this.parseString();
      if (entries.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
      this.expect(':');
      entries.set(key, this.parseValue(depth + 1));
      this.skipWhitespace();
      if (this.text.charAt(this.pos) === '}') {
        this.pos++;
        // fromEntries defines own data properties: a "__proto__" key cannot change the prototype.
        return Object.fromEntries(entries);
      }
      this.expect(',');
    }
  }
}

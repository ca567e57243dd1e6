import { blockScoreWords } from '@rune/crypto';
import { encodeBase64url } from '@rune/protocol';
import { describe, expect, it } from 'vitest';
import {
  INDEX_ID,
  capturePermit,
  deletePermit,
  encryptedVector,
  queryBytes,
  sealedFor,
  searchTicket,
} from './core-helpers.js';
import { OPERATOR_TOKEN, withHttp } from './http-helpers.js';

const ROUNDS_PER_ROUTE = 200;

/** A small deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  2 ** 53,
  '',
  'x',
  [],
  {},
  [1, 'a'],
  { kind: 1 },
  'A'.repeat(300),
];

/** One mutated body: byte flips, truncation, field swaps, deletions, or random bytes. */
function mutate(valid: Record<string, unknown>, rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const text = JSON.stringify(valid);
  switch (Math.floor(rand() * 6)) {
    case 0: {
      // The bodies are ASCII JSON, so UTF-16 code units are characters.
      const chars = text.split('');
      for (let i = 0; i < 1 + rand() * 4; i++)
        chars[Math.floor(rand() * chars.length)] = String.fromCharCode(rand() * 128);
      return chars.join('');
    }
    case 1:
      return text.slice(0, Math.floor(rand() * text.length));
    case 2: {
      const key = pick(Object.keys(valid));
      return JSON.stringify({ ...valid, [key]: pick(ODD_VALUES) });
    }
    case 3: {
      const dropped = pick(Object.keys(valid));
      const copy = Object.fromEntries(Object.entries(valid).filter(([k]) => k !== dropped));
      return JSON.stringify(rand() < 0.5 ? copy : { ...valid, extra: 1 });
    }
    case 4: {
      // Mutate inside a nested envelope, where the signature must catch it.
      const key = pick(Object.keys(valid));
      const inner = valid[key];
      if (typeof inner === 'object' && inner !== null && 'payload' in inner) {
        const payload = { ...(inner.payload as Record<string, unknown>) };
        payload[pick(Object.keys(payload))] = pick(ODD_VALUES);
        return JSON.stringify({ ...valid, [key]: { ...inner, payload } });
      }
      return JSON.stringify({ ...valid, [key]: pick(ODD_VALUES) });
    }
    default:
      return Buffer.from(
        Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)),
      ).toString('latin1');
  }
}

describe('index HTTP fuzzing', () => {
  it('never answers a random or mutated body with a 5xx', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      expect(
        (
          await t.post(`/v1/indexes/${INDEX_ID}/records`, {
            permit: capturePermit(0),
            vector: encodeBase64url(encryptedVector(0, 32)),
            sealed: encodeBase64url(sealedFor('rec-0')),
          })
        ).status,
      ).toBe(201);
      const query = queryBytes(0, 32);
      const routes: readonly {
        path: string;
        body: () => Record<string, unknown>;
        headers?: Record<string, string>;
      }[] = [
        {
          path: '/v1/indexes',
          body: () => ({ indexId: 'fuzz', paramSetId: 1, dim: 32, embedderId: 'e@1' }),
          headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
        },
        {
          path: `/v1/indexes/${INDEX_ID}/records`,
          body: () => ({
            permit: capturePermit(1),
            vector: encodeBase64url(encryptedVector(1, 32)),
            sealed: encodeBase64url(sealedFor('rec-1')),
          }),
        },
        {
          path: `/v1/indexes/${INDEX_ID}/search`,
          body: () => ({ ticket: searchTicket(query, 1, blockScoreWords(1)), query: encodeBase64url(query) }),
        },
        {
          path: `/v1/indexes/${INDEX_ID}/records/fetch`,
          body: () => ({ ticket: searchTicket(query, 1, blockScoreWords(1)), recordIds: ['rec-0'] }),
        },
        { path: `/v1/indexes/${INDEX_ID}/records/delete`, body: () => ({ permit: deletePermit('rec-0') }) },
      ];
      const rand = prng(0x5eed);
      const failures: string[] = [];
      for (const route of routes) {
        const valid = route.body();
        for (let i = 0; i < ROUNDS_PER_ROUTE; i++) {
          const body = mutate(valid, rand);
          const res = await t.post(route.path, body, route.headers);
          await res.arrayBuffer();
          if (res.status >= 500) failures.push(`${route.path} ${res.status} ${body.slice(0, 200)}`);
        }
      }
      expect(failures).toEqual([]);
      expect((await t.get('/health')).status).toBe(200);
    });
  });
});

import { sign as nodeSign, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_MS,
  MESSAGE_KINDS,
  MessageKind,
  ProtocolError,
  createSigner,
  decodeBase64url,
  encodeBase64url,
  generateSigningKeyPair,
  importVerificationKey,
  isTimeBound,
  keyIdOf,
  parseStrictJson,
  signEnvelope,
  signingInput,
  verifyEnvelope,
  type Envelope,
  type MessageKind as Kind,
  type Signer,
} from '../src/index.js';
import { LIFETIME_MS, NOW, codeOf, expectCode, newParty, samplePayloads, viaWire } from './helpers.js';

const signerParty = newParty();
const payloads = samplePayloads();

function signed<K extends Kind>(kind: K): Envelope<K> {
  return signEnvelope(kind, payloads[kind], signerParty.signer);
}

function verify(kind: Kind, envelope: unknown, now = NOW): unknown {
  return verifyEnvelope(kind, envelope, signerParty.key, { now });
}

/** Signs an arbitrary payload without schema validation, as a buggy or newer signer would. */
function signRaw(kind: Kind, payload: unknown, signer: Signer = signerParty.signer): unknown {
  return {
    kind,
    keyId: signer.keyId,
    payload,
    signature: encodeBase64url(signer.sign(signingInput(kind, payload))),
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A different value of the same type that still satisfies the schema (only the signature catches it). */
function mutate(value: Json): Json {
  if (typeof value === 'number') return value >= 127 ? value - 1 : value + 1;
  if (typeof value === 'string') return (value.startsWith('A') ? 'B' : 'A') + value.slice(1);
  throw new Error('mutate only leaves');
}

/** Every leaf path of a JSON value, with a setter that returns a mutated deep copy. */
function leafMutations(root: Json): { path: string; mutated: Json }[] {
  const out: { path: string; mutated: Json }[] = [];
  const walk = (value: Json, path: (string | number)[]): void => {
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value))
        walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
      return;
    }
    const copy = structuredClone(root);
    let node = copy as Record<string | number, Json>;
    for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, Json>;
    const last = path[path.length - 1]!;
    node[last] = mutate(value);
    out.push({ path: path.join('.'), mutated: copy });
  };
  walk(root, []);
  return out;
}

describe('key handling', () => {
  it('derives keyId from the first 16 bytes of SHA-256 of the raw public key', () => {
    const pair = generateSigningKeyPair();
    expect(pair.publicKey).toHaveLength(32);
    expect(pair.privateKey).toHaveLength(32);
    expect(pair.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(keyIdOf(pair.publicKey)).toBe(pair.keyId);
    expect(createSigner(pair.privateKey).publicKey).toEqual(pair.publicKey);
    expect(importVerificationKey(pair.publicKey).keyId).toBe(pair.keyId);
  });

  it('matches the RFC 8032 test vector 1 for key derivation and signing', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const signer = createSigner(seed);
    expect(Buffer.from(signer.publicKey).toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    expect(Buffer.from(signer.sign(new Uint8Array(0))).toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('refuses keys of the wrong length', () => {
    expectCode(() => createSigner(new Uint8Array(31)), 'INVALID_ARGUMENT');
    expectCode(() => importVerificationKey(new Uint8Array(33)), 'INVALID_ARGUMENT');
  });
});

describe('signEnvelope / verifyEnvelope', () => {
  it.each(MESSAGE_KINDS)('round-trips a %s through JSON on the wire', (kind) => {
    const envelope = signed(kind);
    expect(envelope.kind).toBe(kind);
    expect(envelope.keyId).toBe(signerParty.signer.keyId);
    expect(verify(kind, viaWire(envelope))).toEqual(payloads[kind]);
    expect(verify(kind, parseStrictJson(JSON.stringify(envelope)))).toEqual(payloads[kind]);
  });

  it('signs the domain-separated canonical payload', () => {
    const envelope = signed(MessageKind.INSERT_RECEIPT);
    const message = new TextDecoder().decode(signingInput(MessageKind.INSERT_RECEIPT, envelope.payload));
    expect(message.startsWith('rune/v1/insert-receipt\0{"blockId":7,')).toBe(true);
  });

  it('verifies a signature made by a plain node:crypto signer over the documented message', () => {
    const pair = generateSigningKeyPair();
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), pair.privateKey]);
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const payload = payloads[MessageKind.INSERT_RECEIPT];
    const signature = nodeSign(null, signingInput(MessageKind.INSERT_RECEIPT, payload), key);
    const envelope = {
      kind: 'insert-receipt',
      keyId: pair.keyId,
      payload,
      signature: signature.toString('base64url'),
    };
    expect(
      verifyEnvelope(MessageKind.INSERT_RECEIPT, envelope, importVerificationKey(pair.publicKey), {
        now: NOW,
      }),
    ).toEqual(payload);
  });

  it('accepts any of several trusted keys, so keys can rotate', () => {
    const other = newParty();
    const envelope = signed(MessageKind.SEARCH_RESULT);
    expect(
      verifyEnvelope(MessageKind.SEARCH_RESULT, envelope, [other.key, signerParty.key], { now: NOW }),
    ).toEqual(payloads['search-result']);
  });

  it('refuses to sign a payload that does not match its schema', () => {
    const bad = { ...payloads['capture-permit'], slot: 128 };
    expectCode(() => signEnvelope(MessageKind.CAPTURE_PERMIT, bad, signerParty.signer), 'INVALID_ARGUMENT');
  });
});

describe('tampering fails closed', () => {
  describe.each(MESSAGE_KINDS)('%s', (kind) => {
    const envelope = viaWire(signed(kind)) as {
      payload: Json;
      signature: string;
      keyId: string;
      kind: string;
    };

    it('refuses a change to any payload field with SIGNATURE_INVALID (or MALFORMED_REQUEST for v)', () => {
      const mutations = leafMutations(envelope.payload);
      expect(mutations.length).toBeGreaterThan(5);
      for (const { path, mutated } of mutations) {
        const expected = path === 'v' ? 'MALFORMED_REQUEST' : 'SIGNATURE_INVALID';
        expect({ path, code: codeOf(() => verify(kind, { ...envelope, payload: mutated })) }).toEqual({
          path,
          code: expected,
        });
      }
    });

    it('refuses every single-bit flip of any signature byte', () => {
      const bytes = decodeBase64url(envelope.signature);
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = Uint8Array.from(bytes);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expectCode(
          () => verify(kind, { ...envelope, signature: encodeBase64url(flipped) }),
          'SIGNATURE_INVALID',
        );
      }
    });

    it('refuses every single-bit flip anywhere in the wire text', () => {
      const text = JSON.stringify(envelope);
      for (let i = 0; i < text.length; i++) {
        for (let bit = 0; bit < 7; bit++) {
          const garbled =
            text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << bit)) + text.slice(i + 1);
          expect(() => verify(kind, parseStrictJson(garbled))).toThrow(ProtocolError);
        }
      }
    });

    it('refuses a valid signature by an untrusted key with KEY_MISMATCH', () => {
      const impostor = newParty();
      expectCode(() => verify(kind, signRaw(kind, envelope.payload, impostor.signer)), 'KEY_MISMATCH');
    });

    it('refuses an impostor who claims the trusted keyId with SIGNATURE_INVALID', () => {
      const impostor = newParty();
      const forged = signRaw(kind, envelope.payload, impostor.signer) as Record<string, unknown>;
      expectCode(() => verify(kind, { ...forged, keyId: signerParty.signer.keyId }), 'SIGNATURE_INVALID');
    });

    it.each([
      ['truncated', (s: string) => s.slice(0, -2)],
      ['padded', (s: string) => `${s}==`],
      ['garbled with a foreign character', (s: string) => `*${s.slice(1)}`],
      ['standard base64 alphabet', (s: string) => `+${s.slice(1)}`],
      ['empty', () => ''],
      ['with non-zero trailing bits', (s: string) => s.slice(0, -1) + (s.endsWith('B') ? 'C' : 'B')],
    ])('refuses a %s signature with MALFORMED_REQUEST', (_name, garble) => {
      expectCode(
        () => verify(kind, { ...envelope, signature: garble(envelope.signature) }),
        'MALFORMED_REQUEST',
      );
    });

    it('refuses an extra payload field, even one the signer signed, with MALFORMED_REQUEST', () => {
      const payload = { ...(envelope.payload as Record<string, Json>), extra: 1 };
      expectCode(() => verify(kind, signRaw(kind, payload)), 'MALFORMED_REQUEST');
    });

    it('refuses a payload with any field missing, even if signed, with MALFORMED_REQUEST', () => {
      for (const field of Object.keys(envelope.payload as Record<string, Json>)) {
        const rest = Object.fromEntries(
          Object.entries(envelope.payload as Record<string, Json>).filter(([key]) => key !== field),
        );
        expectCode(() => verify(kind, signRaw(kind, rest)), 'MALFORMED_REQUEST');
      }
    });

    it('refuses extra or missing envelope fields with MALFORMED_REQUEST', () => {
      expectCode(() => verify(kind, { ...envelope, note: 'x' }), 'MALFORMED_REQUEST');
      const noKeyId: Partial<typeof envelope> = { ...envelope };
      delete noKeyId.keyId;
      expectCode(() => verify(kind, noKeyId), 'MALFORMED_REQUEST');
      expectCode(() => verify(kind, null), 'MALFORMED_REQUEST');
      expectCode(() => verify(kind, 'envelope'), 'MALFORMED_REQUEST');
    });

    it('refuses a signed payload carrying a __proto__ key parsed from the wire', () => {
      const text = JSON.stringify(signRaw(kind, envelope.payload)).replace(
        '"payload":{',
        '"payload":{"__proto__":{"v":1},',
      );
      expectCode(() => verify(kind, parseStrictJson(text)), 'MALFORMED_REQUEST');
    });

    it('refuses a payload value that has no canonical form, even if the schema is bypassed', () => {
      expectCode(
        () => verify(kind, { ...envelope, payload: { ...(envelope.payload as object), v: 1.5 } }),
        'MALFORMED_REQUEST',
      );
    });
  });

  it('refuses a valid envelope of another kind with WRONG_KIND', () => {
    for (const presentedAs of MESSAGE_KINDS) {
      for (const actual of MESSAGE_KINDS) {
        if (presentedAs === actual) continue;
        expectCode(() => verify(presentedAs, viaWire(signed(actual))), 'WRONG_KIND');
      }
    }
  });

  it('refuses a relabelled envelope, since no payload fits two kinds', () => {
    const receipt = viaWire(signed(MessageKind.INSERT_RECEIPT)) as Record<string, unknown>;
    expectCode(
      () => verify(MessageKind.SEARCH_RESULT, { ...receipt, kind: MessageKind.SEARCH_RESULT }),
      'MALFORMED_REQUEST',
    );
  });

  it("refuses a signature made in another kind's domain over a payload that fits this kind", () => {
    // The cross-protocol case: the signer was induced to sign these bytes as a receipt.
    const payload = payloads['capture-permit'];
    const wrongDomain = signerParty.signer.sign(signingInput(MessageKind.INSERT_RECEIPT, payload));
    const forged = {
      kind: MessageKind.CAPTURE_PERMIT,
      keyId: signerParty.signer.keyId,
      payload,
      signature: encodeBase64url(wrongDomain),
    };
    expectCode(() => verify(MessageKind.CAPTURE_PERMIT, forged), 'SIGNATURE_INVALID');
    for (const other of MESSAGE_KINDS) {
      if (other !== MessageKind.CAPTURE_PERMIT) {
        expect(signingInput(other, payload)).not.toEqual(signingInput(MessageKind.CAPTURE_PERMIT, payload));
      }
    }
  });
});

describe('validity window', () => {
  const timeBound = MESSAGE_KINDS.filter(isTimeBound);

  it('covers exactly the permits, the ticket and the term-stats grant', () => {
    expect(timeBound).toEqual([
      MessageKind.CAPTURE_PERMIT,
      MessageKind.SEARCH_TICKET,
      MessageKind.DELETE_PERMIT,
      MessageKind.TERM_STATS_GRANT,
    ]);
  });

  describe.each(timeBound)('%s', (kind) => {
    const envelope = viaWire(signed(kind));

    it('is accepted from issuedAt − skew until just before expiresAt + skew', () => {
      expect(verify(kind, envelope, NOW - CLOCK_SKEW_MS)).toBeDefined();
      expect(verify(kind, envelope, NOW + LIFETIME_MS + CLOCK_SKEW_MS - 1)).toBeDefined();
    });

    it('is refused as EXPIRED once expiresAt + skew has passed', () => {
      expectCode(() => verify(kind, envelope, NOW + LIFETIME_MS + CLOCK_SKEW_MS), 'EXPIRED');
    });

    it('is refused as NOT_YET_VALID before issuedAt − skew', () => {
      expectCode(() => verify(kind, envelope, NOW - CLOCK_SKEW_MS - 1), 'NOT_YET_VALID');
    });

    it('refuses a signed payload whose lifetime exceeds the cap or is not positive', () => {
      const base = payloads[kind];
      expectCode(
        () => verify(kind, signRaw(kind, { ...base, expiresAt: NOW + 3_600_000 })),
        'MALFORMED_REQUEST',
      );
      expectCode(() => verify(kind, signRaw(kind, { ...base, expiresAt: NOW })), 'MALFORMED_REQUEST');
    });
  });

  it('refuses a clock reading that is not an integer timestamp with INVALID_ARGUMENT', () => {
    expectCode(
      () => verify(MessageKind.SEARCH_TICKET, viaWire(signed(MessageKind.SEARCH_TICKET)), Number.NaN),
      'INVALID_ARGUMENT',
    );
  });

  it('does not expire receipts and results, which carry no validity window', () => {
    expect(
      verify(
        MessageKind.INSERT_RECEIPT,
        viaWire(signed(MessageKind.INSERT_RECEIPT)),
        NOW + 10 * 365 * 86_400_000,
      ),
    ).toBeDefined();
  });
});

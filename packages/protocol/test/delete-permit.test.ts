import { describe, expect, it } from 'vitest';
import {
  MAX_PERMIT_LIFETIME_MS,
  MessageKind,
  deletePermitSchema,
  signEnvelope,
  verifyEnvelope,
} from '../src/index.js';
import { NOW, expectCode, newParty, samplePayloads, viaWire } from './helpers.js';

const vault = newParty();
const permit = samplePayloads()[MessageKind.DELETE_PERMIT];

function verify(envelope: unknown, now = NOW): unknown {
  return verifyEnvelope(MessageKind.DELETE_PERMIT, envelope, vault.key, { now });
}

describe('delete-permit', () => {
  it('round-trips through JSON on the wire', () => {
    const envelope = signEnvelope(MessageKind.DELETE_PERMIT, permit, vault.signer);
    expect(verify(viaWire(envelope))).toEqual(permit);
  });

  it('refuses a permit whose record id was changed after signing', () => {
    const envelope = viaWire(signEnvelope(MessageKind.DELETE_PERMIT, permit, vault.signer)) as {
      payload: { recordId: string };
    };
    envelope.payload.recordId = 'rec_0002';
    expectCode(() => verify(envelope), 'SIGNATURE_INVALID');
  });

  it('refuses a capture permit presented as a delete permit, and the reverse', () => {
    const capture = signEnvelope(
      MessageKind.CAPTURE_PERMIT,
      samplePayloads()['capture-permit'],
      vault.signer,
    );
    expectCode(() => verify(viaWire(capture)), 'WRONG_KIND');
    const del = signEnvelope(MessageKind.DELETE_PERMIT, permit, vault.signer);
    expectCode(
      () => verifyEnvelope(MessageKind.CAPTURE_PERMIT, viaWire(del), vault.key, { now: NOW }),
      'WRONG_KIND',
    );
  });

  it('is time-bound: an expired permit is refused', () => {
    const envelope = signEnvelope(MessageKind.DELETE_PERMIT, permit, vault.signer);
    expectCode(() => verify(viaWire(envelope), permit.expiresAt + 60_000), 'EXPIRED');
  });

  it.each([
    ['an extra field', { blockId: 3 }],
    ['a lifetime over the cap', { expiresAt: NOW + MAX_PERMIT_LIFETIME_MS + 1 }],
    ['a short nonce', { nonce: 'AAEC' }],
    ['a bad record id', { recordId: 'a/b' }],
  ])('schema refuses %s', (_name, change) => {
    expect(deletePermitSchema.safeParse({ ...permit, ...change }).success).toBe(false);
  });
});

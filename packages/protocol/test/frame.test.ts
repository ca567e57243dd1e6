import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, isProtocolError } from '../src/index.js';

const LIMITS = { maxJsonBytes: 1024, maxBlobs: 8, maxBlobBytes: 4096 };

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err: unknown) {
    return isProtocolError(err) ? err.code : 'OTHER';
  }
  return undefined;
}

describe('frames: a JSON head and raw blobs', () => {
  it('round-trips the head and every blob byte for byte, empty blobs included', () => {
    const blobs = [
      Uint8Array.from([1, 2, 3]),
      new Uint8Array(0),
      Uint8Array.from({ length: 4096 }, (_, i) => i & 255),
    ];
    const frame = encodeFrame({ ticket: { a: 1 }, s: 'ü' }, blobs);
    const out = decodeFrame(frame, LIMITS);
    expect(out.json).toEqual({ ticket: { a: 1 }, s: 'ü' });
    expect(out.blobs).toEqual(blobs);
  });

  it('refuses every truncation and any trailing byte', () => {
    const frame = encodeFrame({ x: 1 }, [Uint8Array.from([9, 9, 9, 9])]);
    for (let cut = 0; cut < frame.byteLength; cut++) {
      expect(
        code(() => decodeFrame(frame.subarray(0, cut), LIMITS)),
        `cut at ${cut}`,
      ).toBe('MALFORMED_REQUEST');
    }
    const longer = new Uint8Array(frame.byteLength + 1);
    longer.set(frame);
    expect(code(() => decodeFrame(longer, LIMITS))).toBe('MALFORMED_REQUEST');
  });

  it('refuses a bad magic, oversized parts and a head that is not strict JSON', () => {
    const frame = encodeFrame({ x: 1 }, [Uint8Array.from([1])]);
    const badMagic = Uint8Array.from(frame);
    badMagic[0] = 0x58;
    expect(code(() => decodeFrame(badMagic, LIMITS))).toBe('MALFORMED_REQUEST');
    expect(code(() => decodeFrame(frame, { ...LIMITS, maxBlobs: 0 }))).toBe('MALFORMED_REQUEST');
    expect(code(() => decodeFrame(frame, { ...LIMITS, maxBlobBytes: 0 }))).toBe('MALFORMED_REQUEST');
    expect(code(() => decodeFrame(frame, { ...LIMITS, maxJsonBytes: 3 }))).toBe('MALFORMED_REQUEST');
    const duplicate = Buffer.from('{"a":1,"a":2}');
    const raw = new Uint8Array(8 + duplicate.byteLength + 4);
    raw.set([0x52, 0x4e, 0x46, 0x31]);
    new DataView(raw.buffer).setUint32(4, duplicate.byteLength, true);
    raw.set(duplicate, 8);
    expect(code(() => decodeFrame(raw, LIMITS))).toBe('MALFORMED_REQUEST');
  });

  it('refuses a blob count or length that claims more than the frame holds', () => {
    const frame = encodeFrame({}, [Uint8Array.from([1, 2])]);
    const lying = Uint8Array.from(frame);
    const view = new DataView(lying.buffer);
    view.setUint32(8 + 2, 5, true); // count 5, only one present
    expect(code(() => decodeFrame(lying, LIMITS))).toBe('MALFORMED_REQUEST');
    const lyingLength = Uint8Array.from(frame);
    new DataView(lyingLength.buffer).setUint32(8 + 2 + 4, 3000, true);
    expect(code(() => decodeFrame(lyingLength, LIMITS))).toBe('MALFORMED_REQUEST');
  });
});

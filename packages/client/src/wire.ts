import { decodeBase64url, isProtocolError } from '@rune/protocol';
import { z } from 'zod';
import { RuneClientError, type ServiceName } from './errors.js';

/**
 * Shapes of the services' answers, as this client reads them. Objects are not strict, so a newer
 * service may add fields; signed envelopes stay `unknown` here and are verified where they are used.
 */
const b64 = z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');
const envelope = z.record(z.string(), z.unknown());

export const permitGrantSchema = z.object({ permit: envelope, recordId: z.string(), recordKey: b64 });
export const insertAnswerSchema = z.object({ receipt: envelope });
export const ticketAnswerSchema = z.object({ ticket: envelope });
export const searchAnswerSchema = z.object({ result: envelope, blocks: z.array(b64) });
/** The JSON head of a framed search answer; its blocks travel as the frame's blobs. */
export const searchHeadSchema = z.object({ result: envelope });
export const openAnswerSchema = z.object({
  hits: z.array(z.object({ recordId: z.string(), score: z.number(), recordKey: b64 })),
});
export const fetchAnswerSchema = z.object({
  records: z.array(z.object({ recordId: z.string(), sealed: b64 })),
});
export const forgetAnswerSchema = z.object({
  recordId: z.string(),
  blockId: z.int(),
  slot: z.int(),
  wasLive: z.boolean(),
  deletePermit: envelope,
});

export function responseInvalid(service: ServiceName, detail: string, cause?: unknown): RuneClientError {
  return new RuneClientError(
    service === 'vault' ? 'VAULT_RESPONSE_INVALID' : 'INDEX_RESPONSE_INVALID',
    `unexpected answer from the ${service}: ${detail}`,
    {
      service,
      hint: `check that the client and the ${service} run matching versions; report it if it persists`,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** Validates an answer at the parse boundary. */
export function parseAnswer<T>(schema: z.ZodType<T>, json: unknown, service: ServiceName, what: string): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw responseInvalid(service, `${what}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}

/** Strict base64url decoding of a field a service sent. */
export function decodeField(service: ServiceName, text: string, what: string): Uint8Array {
  try {
    return decodeBase64url(text, what);
  } catch (err: unknown) {
    if (isProtocolError(err)) throw responseInvalid(service, `${what} is not base64url`, err);
    throw err;
  }
}

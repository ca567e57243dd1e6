export { ProtocolError, ProtocolErrorCode, isProtocolError } from './errors.js';
export { encodeBase64url, decodeBase64url, base64urlLength } from './base64url.js';
export { MAX_DEPTH, canonicalJson, canonicalBytes, parseStrictJson } from './canonical.js';
export { SHA256_BYTES, SHA256_B64URL_LENGTH, MAX_QUERY_BYTES, hashBytes, hashQuery } from './hashing.js';
export {
  PROTOCOL_VERSION,
  MessageKind,
  MESSAGE_KINDS,
  MAX_PERMIT_LIFETIME_MS,
  MAX_TICKET_LIFETIME_MS,
  MAX_BLOCKS_PER_SEARCH,
  MAX_TOP_K,
  MAX_WORDS_PER_BLOCK,
  SLOTS_PER_BLOCK,
  MAX_DIM,
  NONCE_BYTES,
  idSchema,
  sha256Schema,
  nonceSchema,
  capturePermitSchema,
  searchTicketSchema,
  resultBlockSchema,
  searchResultSchema,
  insertReceiptSchema,
  deletePermitSchema,
  termStatsGrantSchema,
  payloadSchemas,
  isTimeBound,
  type CapturePermit,
  type SearchTicket,
  type ResultBlock,
  type SearchResult,
  type InsertReceipt,
  type DeletePermit,
  type TermStatsGrant,
  type PayloadByKind,
  type PayloadOf,
} from './messages.js';
export {
  PUBLIC_KEY_BYTES,
  PRIVATE_KEY_BYTES,
  SIGNATURE_BYTES,
  CLOCK_SKEW_MS,
  keyIdOf,
  generateSigningKeyPair,
  createSigner,
  importVerificationKey,
  signingInput,
  envelopeSchema,
  signEnvelope,
  verifyEnvelope,
  assertWithinValidity,
  type Signer,
  type VerificationKey,
  type SigningKeyPair,
  type Envelope,
  type VerifyOptions,
} from './signing.js';
export { ReplayGuard, type ReplayGuardOptions } from './replay-guard.js';
export { assertQueryMatchesTicket, assertResultMatches } from './result-binding.js';
export { newNonce } from './nonce.js';
export { FRAME_CONTENT_TYPE, decodeFrame, encodeFrame, type FrameLimits } from './frame.js';

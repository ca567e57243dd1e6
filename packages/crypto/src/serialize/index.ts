/** Versioned binary formats of the engine objects; byte layouts in docs/formats.md. */
export { serializeBlock, parseBlock } from './block.js';
export { serializeBlockScores, parseBlockScores } from './block-scores.js';
export {
  serializeEncryptedVector,
  parseEncryptedVector,
  serializeEncryptedQuery,
  parseEncryptedQuery,
} from './encrypted-vector.js';
export { FORMAT_VERSION, HEADER_BYTES, type ParseExpectation } from './header.js';
export type { SerializeOptions } from './options.js';
export { packResidues, unpackResidues } from './pack.js';
export { serializePublicKey, parsePublicKey } from './public-key.js';
export { serializeSecretKey, parseSecretKey } from './secret-key.js';
export { ObjectKind, maxSerializedBytes, payloadBytes } from './shape.js';

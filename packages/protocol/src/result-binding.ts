import { ProtocolError } from './errors.js';
import { hashBytes } from './hashing.js';
import type { SearchResult, SearchTicket } from './messages.js';

/**
 * Index side, before scoring: the query received must be exactly the one the ticket authorised.
 * The ticket must already have passed verifyEnvelope.
 */
export function assertQueryMatchesTicket(ticket: SearchTicket, queryBytes: Uint8Array): void {
  if (hashBytes(queryBytes) !== ticket.queryHash) {
    throw new ProtocolError('QUERY_MISMATCH', 'the query is not the one this ticket authorises');
  }
}

/**
 * Vault side, before decrypting anything: binds a verified search result to its verified ticket
 * and to the score blocks that travelled beside it (serialisedBlocks[i] belongs to result.blocks[i]).
 *
 * SECURITY: checks the result names the same ticket, index, epoch and query; that the block count
 * is the one the ticket fixed; and that every block's bytes hash to the value the index signed.
 * It does NOT parse the blocks: the caller then parses each with parseBlockScores, expecting the
 * ticket's paramSetId and that entry's blockId, and checks it holds expected.wordsPerBlock words.
 */
export function assertResultMatches(
  result: SearchResult,
  ticket: SearchTicket,
  serialisedBlocks: readonly Uint8Array[],
): void {
  if (result.ticketId !== ticket.ticketId) {
    throw new ProtocolError('RESULT_MISMATCH', 'the result answers another ticket');
  }
  if (result.indexId !== ticket.indexId || result.epoch !== ticket.epoch) {
    throw new ProtocolError('RESULT_MISMATCH', 'the result comes from another index or epoch');
  }
  if (result.queryHash !== ticket.queryHash) {
    throw new ProtocolError('RESULT_MISMATCH', 'the index scored another query');
  }
  if (result.blocks.length !== ticket.expected.blockCount) {
    throw new ProtocolError(
      'RESULT_SHAPE_MISMATCH',
      `the ticket fixed ${ticket.expected.blockCount} blocks, the result has ${result.blocks.length}`,
    );
  }
  if (serialisedBlocks.length !== result.blocks.length) {
    throw new ProtocolError(
      'RESULT_SHAPE_MISMATCH',
      `the result signs ${result.blocks.length} blocks, ${serialisedBlocks.length} arrived`,
    );
  }
  result.blocks.forEach((block, i) => {
    const bytes = serialisedBlocks[i];
    if (bytes === undefined || hashBytes(bytes) !== block.sha256) {
      throw new ProtocolError('RESULT_MISMATCH', `block ${block.blockId} does not match its signed hash`);
    }
  });
}

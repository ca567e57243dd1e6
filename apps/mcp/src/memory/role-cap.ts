import { MAX_TOP_K } from '@rune/protocol';
import { isRuneClientError } from '@rune/client';

/**
 * The member's top-k cap. No Vault route tells a member their own role, so it is learnt from the
 * Vault's refusal ("… above the cap of N for role …") and kept for the life of the process.
 */
export class RoleCap {
  #known: number | undefined;

  get known(): number | undefined {
    return this.#known;
  }

  /** The most a recall may ask for: the learnt cap, or the protocol's maximum until one is learnt. */
  get ceiling(): number {
    return this.#known ?? MAX_TOP_K;
  }

  /** Learns the cap from a TOP_K_ABOVE_CAP refusal; true when it did. */
  learnFrom(err: unknown): boolean {
    if (!isRuneClientError(err, 'TOP_K_ABOVE_CAP')) return false;
    const cap = /cap of (\d{1,3})\b/.exec(err.message)?.[1];
    if (cap === undefined) return false;
    this.#known = Number(cap);
    return true;
  }
}

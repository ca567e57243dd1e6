import { MAX_TOP_K } from '@rune/protocol';
import { isRuneClientError, type RuneClient } from '@rune/client';

/**
 * The member's top-k cap, kept for the life of the process: asked of the Vault once
 * (`GET /v1/members/me`), or learnt from its refusal ("… above the cap of N …") when the Vault is
 * older than that route.
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

  /** Asks the Vault once; a failure leaves the cap unknown (the refusal path then learns it). */
  async ask(client: RuneClient): Promise<void> {
    if (this.#known !== undefined) return;
    try {
      this.#known = (await client.whoami()).topKCap;
    } catch {
      // Older Vault or a transient failure: the first refusal teaches the cap instead.
    }
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

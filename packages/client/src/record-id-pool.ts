import { randomInt } from 'node:crypto';

/** Ids kept for decoys; old ones are forgotten first. */
const DEFAULT_CAPACITY = 1024;

/**
 * Record ids this client has seen (its captures and earlier hits), used as fetch decoys.
 *
 * SECURITY: decoys must be ids the index holds: a random id it has never stored is recognisable
 * and hides nothing. Real ids from earlier work make the hits of this recall blend in (DESIGN §2).
 */
export class RecordIdPool {
  readonly #ids = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#ids.size;
  }

  add(recordId: string): void {
    this.#ids.delete(recordId);
    this.#ids.add(recordId);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next();
      if (oldest.done !== true) this.#ids.delete(oldest.value);
    }
  }

  delete(recordId: string): void {
    this.#ids.delete(recordId);
  }

  /** Up to `count` distinct ids, none in `exclude`, chosen uniformly at random. */
  sample(count: number, exclude: ReadonlySet<string>): string[] {
    const candidates = [...this.#ids].filter((id) => !exclude.has(id));
    shuffle(candidates);
    return candidates.slice(0, count);
  }
}

/** Fisher–Yates with a CSPRNG, in place: the order of a fetch must not tell hits from decoys. */
export function shuffle(items: string[]): string[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const a = items[i];
    const b = items[j];
    if (a === undefined || b === undefined) continue;
    items[i] = b;
    items[j] = a;
  }
  return items;
}

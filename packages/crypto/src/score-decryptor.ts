import { createCrt, type Crt } from './crt.js';
import type { Engine } from './engine.js';
import { CryptoError } from './errors.js';
import { assertSameParams, secretKeyNtt } from './keys.js';
import { getParamSet, QueryMode, type ParamSet } from './params.js';
import { primeTables, type PrimeTables } from './tables.js';
import { blockScoreWordsPerPrime, type BlockScores, type SecretKey } from './types.js';

/**
 * Vault-side decryption of block scores, and nothing else: it extracts only the score coefficients
 * (32g+31) of c0 + c1·s [+ c2·s²], never a whole plaintext. The secret key is folded once into
 * LS = L⊙NTT(s) (and L⊙NTT(s)² for encrypted queries), so per block and prime the Vault does
 * n multiply-adds and one 128-point inverse NTT ("folded" extraction, FHE-PROTOTYPE §2).
 * SECURITY: never add a method that returns non-score coefficients; that would make the Vault an oracle.
 */
export class ScoreDecryptor {
  private readonly params: ParamSet;
  private readonly tables: readonly PrimeTables[];
  private readonly ls: Uint32Array[];
  private readonly ls2: Uint32Array[];
  private readonly acc: Uint32Array;
  private readonly residues: Float64Array;
  private readonly crt: Crt;
  private readonly scale: number;
  private readonly encrypted: boolean;
  private destroyed = false;

  private constructor(
    private readonly engine: Engine,
    secretKey: SecretKey,
  ) {
    const params = getParamSet(secretKey.paramSetId);
    this.params = params;
    this.encrypted = params.queryMode === QueryMode.ENCRYPTED;
    this.tables = params.primes.map((_, i) => primeTables(params, i));
    this.ls = [];
    this.ls2 = [];
    const { kernels } = engine;
    const zero = new Uint32Array(params.n);
    this.tables.forEach((t, i) => {
      const sHat = secretKeyNtt(engine, params, secretKey, i);
      const ls = kernels.allocU32(params.n);
      kernels.mulAdd(ls, t.fold, sHat, zero, t);
      this.ls.push(ls);
      if (this.encrypted) {
        const s2 = new Uint32Array(params.n);
        kernels.mulAdd(s2, sHat, sHat, zero, t);
        const ls2 = kernels.allocU32(params.n);
        kernels.mulAdd(ls2, t.fold, s2, zero, t);
        this.ls2.push(ls2);
        s2.fill(0);
      }
      sHat.fill(0);
    });
    this.acc = kernels.allocU32(params.primes.length * (params.n / params.chunkSize));
    this.residues = new Float64Array(params.primes.length);
    this.crt = createCrt(params);
    this.scale = params.deltaX * params.deltaQ;
  }

  static create(engine: Engine, secretKey: SecretKey): ScoreDecryptor {
    return new ScoreDecryptor(engine, secretKey);
  }

  get paramSetId(): number {
    return this.params.id;
  }

  /** Words a BlockScores payload must have. */
  get scoreWords(): number {
    return (
      this.params.primes.length *
      blockScoreWordsPerPrime(this.params.n, this.params.chunkSize, this.encrypted)
    );
  }

  /** Decrypt one block's scores into out[slot] (itemsPerBlock floats). Does not validate ranges. */
  decryptBlock(scores: BlockScores, out: Float64Array): void {
    if (this.destroyed) throw new CryptoError('DECRYPTION_FAILED', 'score decryptor was destroyed');
    assertSameParams(this.params.id, scores.paramSetId, 'block scores');
    const { n, chunkSize, itemsPerBlock } = this.params;
    const groups = n / chunkSize;
    if (scores.data.length !== this.scoreWords) {
      throw new CryptoError(
        'MALFORMED_INPUT',
        `block ${scores.blockId} scores have ${scores.data.length} words, expected ${this.scoreWords}`,
      );
    }
    if (out.length < itemsPerBlock)
      throw new RangeError(`output holds ${out.length} scores, needs ${itemsPerBlock}`);
    const { kernels } = this.engine;
    const perPrime = blockScoreWordsPerPrime(n, chunkSize, this.encrypted);
    this.tables.forEach((t, i) => {
      const base = i * perPrime;
      const y0 = scores.data.subarray(base, base + groups);
      const r1 = scores.data.subarray(base + groups, base + groups + n);
      const acc = this.acc.subarray(i * groups, (i + 1) * groups);
      kernels.foldAccumulate(y0, r1, this.ls[i] ?? new Uint32Array(0), t, acc);
      if (this.encrypted) {
        const r2 = scores.data.subarray(base + groups + n, base + groups + 2 * n);
        kernels.foldAccumulate(acc, r2, this.ls2[i] ?? new Uint32Array(0), t, acc);
      }
      kernels.intt128(acc, t);
    });
    const primes = this.tables.length;
    const inv = 1 / this.scale; // a power of two: multiplying is exact
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < primes; i++) this.residues[i] = this.acc[i * groups + g] ?? 0;
      out[g] = this.crt.centred(this.residues) * inv;
    }
  }

  /** Zero the key-derived tables; the decryptor refuses further use. */
  destroy(): void {
    for (const a of this.ls) a.fill(0);
    for (const a of this.ls2) a.fill(0);
    this.acc.fill(0);
    this.destroyed = true;
  }
}

/**
 * SEAL-WASM baseline for the engine benchmark: node-seal 6 CKKS "column packing" with a plaintext
 * query, as measured in shared/FHE-NOTES.md §2.3 (N=4096, coeff modulus {54,55}, Δ = 2^25 · 2^25).
 *
 * Layout: block b holds N/2 = 2048 vectors in the real slots; ciphertext (b, d) holds coordinate d of
 * each. Score block = Σ_d multiplyPlain(ct_{b,d}, pt(q_d)) with constant query plaintexts, accumulated
 * with add. Stored ciphertexts are brought to the last level of the modulus chain before scoring.
 */

const POLY_DEGREE = 4096;
const COEFF_MODULUS_BITS = [54, 55];
const SCALE = 2 ** 25;
const DEFAULT_MAX_VECTORS = 8192;
/** Queries timed (after one untimed warm-up); the median is reported. */
const TIMED_QUERIES = 5;

export interface SealColumnPackingOptions {
  /** count×dim row-major, unit vectors. */
  readonly vectors: Float32Array;
  readonly dim: number;
  readonly count: number;
  /** qCount×dim row-major. */
  readonly queries: Float32Array;
  readonly qCount: number;
  /** Vectors scored (a prefix of `vectors`); default 8192 = 4 blocks of 2048. */
  readonly maxVectors?: number;
}

export interface SealColumnPackingResult {
  /** Vectors scored per second on one core (median over the timed queries), query encoding excluded. */
  readonly vpsPerCore: number;
  /**
   * The same from process CPU time instead of wall time: closer to the per-core figure when other jobs
   * share the machine (wall time then includes time the thread was not scheduled).
   */
  readonly vpsPerCoreCpuTime: number;
  readonly vectorsScored: number;
  /** Vectors per ciphertext block (slot count). */
  readonly blockSize: number;
  /** Max |SEAL score − float64 dot product| over all scored vectors and timed queries. */
  readonly maxAbsError: number;
  /** Median time to encode the dim constant query plaintexts. */
  readonly queryEncodeMs: number;
  /** Mean public-key encryption time per column ciphertext (encoding excluded, see notes). */
  readonly encryptMsPerCt: number;
  readonly notes: string;
}

// Narrow typing of the node-seal 6 API used here; its own typings return `T | void` everywhere.
interface Deletable {
  delete(): void;
}
/** A SEAL object on the WASM heap, freed with `delete()`. */
type Handle<Tag extends string> = Deletable & { readonly __handle: Tag };
/** An embind enum value. */
interface Enum<Tag extends string> {
  readonly __enum: Tag;
}
type SealPlain = Handle<'PlainText'>;
interface SealCipher extends Deletable {
  readonly coeffModulusSize: number;
}
interface SealParmsId extends Deletable {
  readonly values: BigUint64Array;
}
interface SealContext extends Deletable {
  parametersSet(): boolean;
  readonly firstParmsId: SealParmsId;
  readonly lastParmsId: SealParmsId;
}
interface SealEncParms extends Deletable {
  setPolyModulusDegree(n: number): void;
  setCoeffModulus(moduli: Handle<'Vector'>): void;
}
interface SealKeyGenerator extends Deletable {
  secretKey(): Handle<'SecretKey'>;
  createPublicKey(): Handle<'PublicKey'>;
}
interface SealEncryptor extends Deletable {
  encrypt(plain: SealPlain): SealCipher;
}
interface SealDecryptor extends Deletable {
  decrypt(cipher: SealCipher, destination: SealPlain): void;
}
interface SealEvaluator extends Deletable {
  multiplyPlain(cipher: SealCipher, plain: SealPlain, destination: SealCipher): void;
  add(a: SealCipher, b: SealCipher, destination: SealCipher): void;
  cipherModSwitchTo(cipher: SealCipher, parmsId: SealParmsId, destination: SealCipher): void;
  plainModSwitchTo(plain: SealPlain, parmsId: SealParmsId, destination: SealPlain): void;
}
interface SealCkksEncoder extends Deletable {
  readonly slotCount: number;
  encode(values: Float64Array, scale: number, destination: SealPlain): void;
  decode(plain: SealPlain): Float64Array;
}
interface SealLib {
  readonly Version: string;
  readonly SchemeType: { readonly ckks: Enum<'Scheme'> };
  readonly SecurityLevel: { readonly tc128: Enum<'SecLevel'> };
  readonly CoeffModulus: { Create(n: number, bitSizes: Int32Array): Handle<'Vector'> };
  EncryptionParameters(scheme: Enum<'Scheme'>): SealEncParms;
  Context(parms: SealEncParms, expandModChain: boolean, security: Enum<'SecLevel'>): SealContext;
  KeyGenerator(context: SealContext): SealKeyGenerator;
  Encryptor(context: SealContext, publicKey: Handle<'PublicKey'>): SealEncryptor;
  Decryptor(context: SealContext, secretKey: Handle<'SecretKey'>): SealDecryptor;
  Evaluator(context: SealContext): SealEvaluator;
  CKKSEncoder(context: SealContext): SealCkksEncoder;
  PlainText(): SealPlain;
  CipherText(): SealCipher;
}

async function loadSeal(): Promise<SealLib> {
  // node-seal is CommonJS: Node's interop puts its factory on `default`. Loaded lazily so that
  // importing this module costs nothing when the baseline is skipped.
  const mod = (await import('node-seal')) as unknown as { default: () => Promise<unknown> };
  return (await mod.default()) as SealLib;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const hi = s[mid] ?? Number.NaN;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? hi) + hi) / 2;
}

export async function measureSealColumnPacking(
  opts: SealColumnPackingOptions,
): Promise<SealColumnPackingResult> {
  const { vectors, dim, count, queries, qCount } = opts;
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  if (vectors.length < count * dim)
    throw new RangeError(`vectors holds ${vectors.length} values, need ${count}×${dim}`);
  if (qCount < 1 || queries.length < qCount * dim) throw new RangeError(`need at least one ${dim}-dim query`);
  const used = Math.min(count, opts.maxVectors ?? DEFAULT_MAX_VECTORS);
  if (used < 1) throw new RangeError('no vectors to score');

  const seal = await loadSeal();
  const owned: Deletable[] = [];
  const keep = <T extends Deletable>(object: T): T => {
    owned.push(object);
    return object;
  };
  try {
    const parms = keep(seal.EncryptionParameters(seal.SchemeType.ckks));
    parms.setPolyModulusDegree(POLY_DEGREE);
    parms.setCoeffModulus(keep(seal.CoeffModulus.Create(POLY_DEGREE, Int32Array.from(COEFF_MODULUS_BITS))));
    const context = keep(seal.Context(parms, true, seal.SecurityLevel.tc128));
    if (!context.parametersSet()) throw new Error('SEAL rejected the CKKS parameters');
    const keys = keep(seal.KeyGenerator(context));
    const secretKey = keep(keys.secretKey());
    const publicKey = keep(keys.createPublicKey());
    // Clients hold only the public key, so columns are encrypted with it (as in the notes).
    const encryptor = keep(seal.Encryptor(context, publicKey));
    const decryptor = keep(seal.Decryptor(context, secretKey));
    const evaluator = keep(seal.Evaluator(context));
    const encoder = keep(seal.CKKSEncoder(context));
    const firstParms = keep(context.firstParmsId);
    const lastParms = keep(context.lastParmsId);
    // With {54,55} the 55-bit prime is the special prime: the first data level is already the last.
    const modSwitch = firstParms.values.some((v, i) => v !== lastParms.values[i]);

    const blockSize = encoder.slotCount;
    const blocks = Math.ceil(used / blockSize);

    // Client side: encode and encrypt the column ciphertexts of every block.
    const columns: SealCipher[][] = [];
    const plain = keep(seal.PlainText());
    const slots = new Float64Array(blockSize);
    let encodeMs = 0;
    let encryptMs = 0;
    for (let b = 0; b < blocks; b++) {
      const start = b * blockSize;
      const inBlock = Math.min(blockSize, used - start);
      const row: SealCipher[] = [];
      for (let d = 0; d < dim; d++) {
        slots.fill(0);
        for (let j = 0; j < inBlock; j++) slots[j] = vectors[(start + j) * dim + d] ?? 0;
        const t0 = performance.now();
        encoder.encode(slots, SCALE, plain);
        const t1 = performance.now();
        const ct = keep(encryptor.encrypt(plain));
        encryptMs += performance.now() - t1;
        encodeMs += t1 - t0;
        if (modSwitch) evaluator.cipherModSwitchTo(ct, lastParms, ct);
        row.push(ct);
      }
      columns.push(row);
    }
    const storedPrimes = columns[0]?.[0]?.coeffModulusSize ?? 0;

    // Server side: preallocated accumulators so the timed loop allocates nothing.
    const queryPlains = Array.from({ length: dim }, () => keep(seal.PlainText()));
    const accs = Array.from({ length: blocks }, () => keep(seal.CipherText()));
    const tmp = keep(seal.CipherText());
    const out = keep(seal.PlainText());

    const encodeTimes: number[] = [];
    const scoreTimes: number[] = [];
    const scoreCpuTimes: number[] = [];
    let maxAbsError = 0;
    const runs = Math.min(qCount, TIMED_QUERIES);
    // Run 0 is an untimed warm-up on query 0 (memory pools, JIT of the JS glue).
    for (let run = 0; run <= runs; run++) {
      const qi = run === 0 ? 0 : run - 1;
      const q = queries.subarray(qi * dim, (qi + 1) * dim);

      const e0 = performance.now();
      for (let d = 0; d < dim; d++) {
        const qp = queryPlains[d];
        if (qp === undefined) throw new Error('unreachable');
        slots.fill(q[d] ?? 0);
        encoder.encode(slots, SCALE, qp);
        if (modSwitch) evaluator.plainModSwitchTo(qp, lastParms, qp);
      }
      const e1 = performance.now();
      const cpu0 = process.cpuUsage();

      for (let b = 0; b < blocks; b++) {
        const row = columns[b];
        const acc = accs[b];
        if (row === undefined || acc === undefined) throw new Error('unreachable');
        for (let d = 0; d < dim; d++) {
          const ct = row[d];
          const qp = queryPlains[d];
          if (ct === undefined || qp === undefined) throw new Error('unreachable');
          if (d === 0) {
            evaluator.multiplyPlain(ct, qp, acc);
          } else {
            evaluator.multiplyPlain(ct, qp, tmp);
            evaluator.add(acc, tmp, acc);
          }
        }
      }
      const e2 = performance.now();
      const cpu = process.cpuUsage(cpu0);
      if (run === 0) continue;
      encodeTimes.push(e1 - e0);
      scoreTimes.push(e2 - e1);
      scoreCpuTimes.push((cpu.user + cpu.system) / 1000);

      // Accuracy against float64 dot products of the float32 inputs.
      for (let b = 0; b < blocks; b++) {
        const acc = accs[b];
        if (acc === undefined) throw new Error('unreachable');
        decryptor.decrypt(acc, out);
        const scores = encoder.decode(out);
        const start = b * blockSize;
        const inBlock = Math.min(blockSize, used - start);
        for (let j = 0; j < inBlock; j++) {
          let exact = 0;
          const base = (start + j) * dim;
          for (let d = 0; d < dim; d++) exact += (vectors[base + d] ?? 0) * (q[d] ?? 0);
          maxAbsError = Math.max(maxAbsError, Math.abs((scores[j] ?? Number.NaN) - exact));
        }
      }
    }

    const cts = blocks * dim;
    const scoreMs = median(scoreTimes);
    const scoreCpuMs = median(scoreCpuTimes);
    const partial =
      used % blockSize === 0 ? '' : `; last block holds ${used % blockSize} of ${blockSize} vectors`;
    return {
      vpsPerCore: used / (scoreMs / 1000),
      vpsPerCoreCpuTime: used / (scoreCpuMs / 1000),
      vectorsScored: used,
      blockSize,
      maxAbsError,
      queryEncodeMs: median(encodeTimes),
      encryptMsPerCt: encryptMs / cts,
      notes:
        `node-seal ${seal.Version} (SEAL WASM, single thread) CKKS N=${POLY_DEGREE} coeff modulus {${COEFF_MODULUS_BITS.join(',')}} tc128, ` +
        `Δx=Δq=2^${Math.log2(SCALE)}; column packing, ${blocks} block(s) × ${dim} column cts stored at ${storedPrimes} prime(s)` +
        `${modSwitch ? ' after mod-switch to the last level' : ' (first data level is the last level, no mod-switch needed)'}${partial}; ` +
        `score = Σ_d multiplyPlain(ct_d, const pt q_d) + add, plaintext query; median block time ${(scoreMs / blocks).toFixed(1)} ms wall, ` +
        `${(scoreCpuMs / blocks).toFixed(1)} ms CPU ` +
        `over ${scoreTimes.length} queries after 1 warm-up; column encode ${(encodeMs / cts).toFixed(3)} ms/ct (not in encryptMsPerCt).`,
    };
  } finally {
    for (const object of owned.reverse()) object.delete();
  }
}

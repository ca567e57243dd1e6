/**
 * Generates Rune's WebAssembly SIMD kernels: WAT text from JS templates (loops unrolled here, at generation
 * time), compiled with wabt (a devDependency only) into `src/wasm/kernels-wasm.ts` (base64 + the memory
 * layout the runtime needs) and `src/wasm/kernels.wat` (for review). Output is deterministic; a test
 * rebuilds it in-process and compares. Run: `npm run build:wasm`.
 *
 * Arithmetic (p < 2^26, so 4p < 2^28 and p^2 < 2^52):
 * - Shoup: for any x < 2^32, x·w − ⌊x·ws/2^32⌋·p ∈ [0, 2p) where ws = ⌊w·2^32/p⌋; the low 32 bits suffice.
 * - Montgomery: for x < 2^32·p, (x + ((x·pn) mod 2^32)·p) / 2^32 ∈ [0, 2p) and ≡ x·2^-32, pn = −p^-1.
 * - Lazy reduction: intermediate NTT values are kept in [0, k·p) with k tracked below; every kernel output
 *   is brought into [0, p), so results equal the JS reference bit for bit (a residue has one canonical form).
 * Every kernel is branch-free on data (SIMD min_u for conditional subtraction), except `fold_dot`'s
 * i64.rem_u and `block_acc`'s i64.div_u, which only ever see public server-side data, and `ternary`'s
 * rejection of the byte 255, whose position is independent of the accepted values.
 */
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import wabtInit from 'wabt';

const N = 4096;
const GROUPS = N / 32;
const MAX_P_BITS = 26;

/**
 * Arrays of a prime's table block, in words ("values" half; the Shoup half mirrors it at +VALUES_WORDS).
 * The t=2 stages read one twiddle per two lanes, so their twiddles are stored twice in a row.
 */
const VALUE_ARRAYS = [
  ['psi', N], // psiRev
  ['fwdT2', N / 2], // psiRev[N/4 + i], each twice
  ['ipsi', N], // psiInvRev
  ['invT2', N / 2], // psiInvRev[N/4 + i], each twice
  ['psi128', GROUPS], // psi128InvRev
  ['psi128T2', GROUPS / 2], // psi128InvRev[GROUPS/4 + i], each twice
  ['consts', 16], // see CONSTS
];
const VALUES = {};
let VALUES_WORDS = 0;
for (const [name, words] of VALUE_ARRAYS) {
  VALUES[name] = VALUES_WORDS;
  VALUES_WORDS += words;
}
/** Scalars of the consts array: 1/n, ψ^-br(1)/n (last inverse stage), the same for 128 points, 2^32 mod p. */
const CONSTS = { nInv: 0, lastInv: 1, n128Inv: 2, last128Inv: 3, montR: 4 };

/**
 * Memory layout shared with the runtime (emitted into kernels-wasm.ts). Byte offsets unless named *Word.
 * The header (first `headerBytes`) holds a magic, a random memory id and the table directory; the heap
 * starts after it, so every kernel pointer is ≥ headerBytes (the unrolled chains rely on that).
 */
export const KERNEL_LAYOUT = {
  n: N,
  headerBytes: 4096,
  magic0: 0x454e5552, // 'RUNE'
  magic1: 0x314e524b, // 'KRN1'
  headerWord: { magic0: 0, magic1: 1, id0: 2, id1: 3, heapTop: 4, tableCount: 5 },
  directoryWord: 16,
  directoryEntryWords: 4, // [p, n, byte offset of the table block, 0]
  directoryEntries: 252,
  table: {
    bytes: 64 + 8 * VALUES_WORDS,
    pWord: 0,
    montNegInvWord: 1,
    valuesWord: 16,
    shoupWord: 16 + VALUES_WORDS,
    ...Object.fromEntries(Object.entries(VALUES).map(([k, v]) => [`${k}Word`, v])),
    consts: CONSTS,
  },
  maxChunks: { foldDot: 127, macMont: 64, macMont2: 32 },
};

const SH = VALUES_WORDS * 4; // byte distance from a twiddle to its Shoup constant
const VAL = 64; // byte offset of the values half inside a table block
const TW = (name) => VAL + 4 * VALUES[name];
const CONST = (name) => VAL + 4 * (VALUES.consts + CONSTS[name]);

// ---------------------------------------------------------------------------------------------------------
// Tiny WAT builder: folded expressions, one statement per line.

const get = (x) => `(local.get $${x})`;
const i32c = (v) => `(i32.const ${v})`;
const op = (name, ...args) => `(${name} ${args.join(' ')})`;
const add32 = (a, b) => (b === 0 ? a : op('i32.add', a, i32c(b)));
const load = (ptr, off = 0) => `(v128.load${off ? ` offset=${off}` : ''} ${ptr})`;
const splat32 = (ptr, off = 0) => `(v128.load32_splat${off ? ` offset=${off}` : ''} ${ptr})`;
const ZERO = '(v128.const i64x2 0 0)';

/** i8x16.shuffle picking 32-bit lanes [a, b, c, d] of the concatenation (x: 0..3, y: 4..7). */
const shuf32 = (lanes, x, y) =>
  `(i8x16.shuffle ${lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(' ')} ${x} ${y})`;
const EVEN32 = [0, 2, 4, 6];
const ODD32 = [1, 3, 5, 7];

class Func {
  constructor(name, params, comment, result = null) {
    this.name = name;
    this.params = params;
    this.comment = comment;
    this.result = result;
    this.locals = [];
    this.declared = new Map(params.map((p) => [p, 'i32']));
    this.lines = [];
    this.depth = 1;
  }

  declare(type, ...names) {
    for (const n of names) {
      const known = this.declared.get(n);
      if (known !== undefined) {
        if (known !== type) throw new Error(`$${n} is ${known}, not ${type}, in ${this.name}`);
        continue;
      }
      this.declared.set(n, type);
      this.locals.push([n, type]);
    }
  }

  emit(line) {
    this.lines.push(`${'  '.repeat(this.depth + 1)}${line}`);
  }

  set(x, expr) {
    if (!this.declared.has(x)) throw new Error(`undeclared local $${x} in ${this.name}`);
    this.emit(`(local.set $${x} ${expr})`);
  }

  store(ptr, off, expr) {
    this.emit(`(v128.store${off ? ` offset=${off}` : ''} ${ptr} ${expr})`);
  }

  open(line) {
    this.emit(line);
    this.depth++;
  }

  close(suffix = '') {
    this.depth--;
    this.emit(`)${suffix}`);
  }

  text() {
    const head = [`  ;; ${this.comment}`, `  (func $${this.name} (export "${this.name}")`];
    const params = this.params.map((p) => `(param $${p} i32)`).join(' ');
    head.push(`    ${params}${this.result === null ? '' : ` (result ${this.result})`}`);
    for (const [n, t] of this.locals) head.push(`    (local $${n} ${t})`);
    return [...head, ...this.lines, '  )'].join('\n');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Shared arithmetic snippets. Locals P (p splat), P2 (2p splat) must be set by the caller.

/** dst = x·w mod p in [0, 2p) (Shoup); W, WS are v128 locals holding w and ⌊w·2^32/p⌋ per lane. */
function shoup(f, dst, x, W, WS) {
  f.declare('v128', 'q');
  f.set(
    'q',
    shuf32(
      ODD32,
      op('i64x2.extmul_low_i32x4_u', get(x), get(WS)),
      op('i64x2.extmul_high_i32x4_u', get(x), get(WS)),
    ),
  );
  f.set(dst, op('i32x4.sub', op('i32x4.mul', get(x), get(W)), op('i32x4.mul', get('q'), get('P'))));
}

/** dst = (x − c·p if x ≥ c·p else x), branch-free; C is a v128 local holding c·p. */
const condSub = (x, C) => op('i32x4.min_u', x, op('i32x4.sub', x, C));

/** Montgomery: dst = x·2^-32 mod p in [0, 2p) for the four u64 lanes lo (lanes 0,1) and hi (lanes 2,3). */
function montgomery(f, dst, lo, hi) {
  f.declare('v128', 'm');
  f.set('m', op('i32x4.mul', shuf32(EVEN32, get(lo), get(hi)), get('PN')));
  f.set(lo, op('i64x2.add', get(lo), op('i64x2.extmul_low_i32x4_u', get('m'), get('P'))));
  f.set(hi, op('i64x2.add', get(hi), op('i64x2.extmul_high_i32x4_u', get('m'), get('P'))));
  f.set(dst, shuf32(ODD32, get(lo), get(hi)));
}

function setModulusConstants(f, tbl, extra = []) {
  f.declare('v128', 'P', 'P2');
  f.set('P', op('i32x4.splat', `(i32.load ${get(tbl)})`));
  f.set('P2', op('i32x4.add', get('P'), get('P')));
  for (const k of extra) {
    f.declare('v128', `P${k}`);
    f.set(`P${k}`, op('i32x4.shl', get('P'), i32c(Math.log2(k))));
  }
}

/** Reduces local x from [0, bound·p) into [0, p) with halving conditional subtractions (bound ≤ 32). */
function reduceFrom(f, x, bound) {
  let b = bound;
  while (b > 1) {
    let c = 1;
    while (c * 2 < b) c *= 2;
    f.set(x, condSub(get(x), get(c === 1 ? 'P' : `P${c}`)));
    b = Math.max(c, b - c);
  }
}
const cascadeConstants = (bound) => {
  const ks = [];
  for (let c = 4; c < bound; c *= 2) ks.push(c);
  return ks;
};

// ---------------------------------------------------------------------------------------------------------
// NTT butterflies on one vector of 4 lanes. Forward (Cooley–Tukey) is lazy: u stays unreduced and grows by
// 2p per stage (u + v, u + 2p − v with v ∈ [0, 2p)); inputs in [0, p) end below 25p after 12 stages, under
// 2^31 for p < 2^26, and are reduced once at the end. Inverse (Gentleman–Sande) keeps [0, 2p) (Harvey).

/** Forward butterfly on two v128 locals: v ← u + 2p − w·v, u ← u + w·v (w·v in [0, 2p) by Shoup). */
function fwdButterflyOn(f, u, v, W, WS) {
  f.declare('v128', 'T');
  shoup(f, 'T', v, W, WS);
  f.set(v, op('i32x4.sub', op('i32x4.add', get(u), get('P2')), get('T')));
  f.set(u, op('i32x4.add', get(u), get('T')));
}

function invButterfly(f, uPtr, uOff, vPtr, vOff, W, WS) {
  f.declare('v128', 'U', 'X', 'V');
  f.set('U', load(uPtr, uOff));
  f.set('V', load(vPtr, vOff));
  f.set('X', op('i32x4.add', get('U'), get('V')));
  f.store(uPtr, uOff, condSub(get('X'), get('P2')));
  f.set('X', op('i32x4.sub', op('i32x4.add', get('U'), get('P2')), get('V')));
  shoup(f, 'V', 'X', W, WS);
  f.store(vPtr, vOff, get('V'));
}

/** Last inverse stage with the 1/n factor folded in: u' = (u+v)/n, v' = (u−v)·w/n, both into [0, p). */
function invLastButterfly(f, uPtr, uOff, vPtr, vOff) {
  f.declare('v128', 'U', 'X', 'V', 'Y');
  f.set('U', load(uPtr, uOff));
  f.set('V', load(vPtr, vOff));
  f.set('X', op('i32x4.add', get('U'), get('V')));
  shoup(f, 'Y', 'X', 'NI', 'NIS');
  f.store(uPtr, uOff, condSub(get('Y'), get('P')));
  f.set('X', op('i32x4.sub', op('i32x4.add', get('U'), get('P2')), get('V')));
  shoup(f, 'Y', 'X', 'LW', 'LWS');
  f.store(vPtr, vOff, condSub(get('Y'), get('P')));
}

/** Butterflies on registers (the fused t=2 / t=1 passes): U, V in, U, V out. */
const fwdButterflyRegs = (f, W, WS) => fwdButterflyOn(f, 'U', 'V', W, WS);

function invButterflyRegs(f, W, WS) {
  f.declare('v128', 'X');
  f.set('X', op('i32x4.sub', op('i32x4.add', get('U'), get('P2')), get('V')));
  f.set('U', op('i32x4.add', get('U'), get('V')));
  f.set('U', condSub(get('U'), get('P2')));
  shoup(f, 'V', 'X', W, WS);
}

/**
 * One radix-2 stage with distance t ≥ 4 (elements) over an n-point array at $a, twiddle index base n/(2t)
 * (block i uses twiddle base+i). Blocks are 2t elements; each iteration does ≥ 4 vector butterflies.
 */
function emitStage(f, { n, t, twOff, butterfly, label }) {
  const tv = t / 4; // vectors per half block
  const blocksPerIter = Math.max(1, 4 / tv);
  const bflyPerBlock = Math.min(tv, 4);
  const innerIters = tv / bflyPerBlock;
  const base = n / (2 * t);
  f.declare('i32', 'pb', 'tw', 'pj', 'pend', 'aend');
  f.declare('v128', 'W', 'WS');
  f.emit(`;; stage t=${t}`);
  f.set('pb', get('a'));
  f.set('aend', add32(get('a'), 4 * n));
  f.set('tw', add32(get('tbl'), twOff + 4 * base));
  f.open(`(loop $${label}`);
  for (let blk = 0; blk < blocksPerIter; blk++) {
    f.set('W', splat32(get('tw'), 4 * blk));
    f.set('WS', splat32(get('tw'), SH + 4 * blk));
    if (innerIters === 1) {
      for (let k = 0; k < bflyPerBlock; k++) {
        const off = blk * 8 * t + 16 * k;
        butterfly(f, get('pb'), off, get('pb'), off + 4 * t, 'W', 'WS');
      }
    } else {
      f.set('pj', get('pb'));
      f.set('pend', add32(get('pb'), 4 * t));
      f.open(`(loop $${label}_j`);
      for (let k = 0; k < 4; k++) butterfly(f, get('pj'), 16 * k, get('pj'), 16 * k + 4 * t, 'W', 'WS');
      f.set('pj', add32(get('pj'), 64));
      f.emit(`(br_if $${label}_j (i32.lt_u ${get('pj')} ${get('pend')}))`);
      f.close();
    }
  }
  f.set('pb', add32(get('pb'), blocksPerIter * 8 * t));
  f.set('tw', add32(get('tw'), 4 * blocksPerIter));
  f.emit(`(br_if $${label} (i32.lt_u ${get('pb')} ${get('aend')}))`);
  f.close();
}

/**
 * Forward t=2 then t=1 on 8 elements [e0..e7] held in A, B: for t=2 the pairs are (e0,e2),(e1,e3),(e4,e6),
 * (e5,e7), so U=[e0 e1 e4 e5], V=[e2 e3 e6 e7] with twiddles [s s s' s'] (the expanded table); for t=1
 * the pairs are (e0,e1),(e2,e3),... with four consecutive twiddles. Values end in [0, p).
 */
function fwdLastTwo(f, ptr, off, tw2Ptr, t2Off, tw1Ptr, t1Off, bound) {
  f.declare('v128', 'A', 'B', 'U', 'V', 'W2', 'WS2', 'W1', 'WS1');
  f.set('A', load(ptr, off));
  f.set('B', load(ptr, off + 16));
  f.set('U', shuf32([0, 1, 4, 5], get('A'), get('B')));
  f.set('V', shuf32([2, 3, 6, 7], get('A'), get('B')));
  f.set('W2', load(tw2Ptr, t2Off));
  f.set('WS2', load(tw2Ptr, t2Off + SH));
  fwdButterflyRegs(f, 'W2', 'WS2');
  // U = [e0 e1 e4 e5], V = [e2 e3 e6 e7] → U = [e0 e2 e4 e6], V = [e1 e3 e5 e7]
  f.set('A', shuf32([0, 4, 2, 6], get('U'), get('V')));
  f.set('V', shuf32([1, 5, 3, 7], get('U'), get('V')));
  f.set('U', get('A'));
  f.set('W1', load(tw1Ptr, t1Off));
  f.set('WS1', load(tw1Ptr, t1Off + SH));
  fwdButterflyRegs(f, 'W1', 'WS1');
  reduceFrom(f, 'U', bound);
  reduceFrom(f, 'V', bound);
  f.store(ptr, off, shuf32([0, 4, 1, 5], get('U'), get('V')));
  f.store(ptr, off + 16, shuf32([2, 6, 3, 7], get('U'), get('V')));
}

/** Inverse t=1 then t=2 on 8 elements (mirror of fwdLastTwo); values stay in [0, 2p). */
function invFirstTwo(f, ptr, off, tw1Ptr, t1Off, tw2Ptr, t2Off) {
  f.declare('v128', 'A', 'B', 'U', 'V', 'W2', 'WS2', 'W1', 'WS1');
  f.set('A', load(ptr, off));
  f.set('B', load(ptr, off + 16));
  f.set('U', shuf32(EVEN32, get('A'), get('B')));
  f.set('V', shuf32(ODD32, get('A'), get('B')));
  f.set('W1', load(tw1Ptr, t1Off));
  f.set('WS1', load(tw1Ptr, t1Off + SH));
  invButterflyRegs(f, 'W1', 'WS1');
  // U = [e0 e2 e4 e6], V = [e1 e3 e5 e7] → U = [e0 e1 e4 e5], V = [e2 e3 e6 e7]
  f.set('A', shuf32([0, 4, 2, 6], get('U'), get('V')));
  f.set('V', shuf32([1, 5, 3, 7], get('U'), get('V')));
  f.set('U', get('A'));
  f.set('W2', load(tw2Ptr, t2Off));
  f.set('WS2', load(tw2Ptr, t2Off + SH));
  invButterflyRegs(f, 'W2', 'WS2');
  f.store(ptr, off, shuf32([0, 1, 4, 5], get('U'), get('V')));
  f.store(ptr, off + 16, shuf32([2, 3, 6, 7], get('U'), get('V')));
}

/**
 * Forward stages t and t/2 in one pass: per block of 2t elements, each quadruple (j, j+t/2, j+t, j+3t/2)
 * goes through stage t (the block's twiddle) and then stage t/2 (the twiddles of its two halves) in
 * registers, so every element is loaded and stored once per two stages (measured ~6% faster than single
 * stages; the Shoup products dominate either way). Same lazy bound as two stages.
 */
function emitFwdStagePair(f, { n, t, label }) {
  const h = t / 2;
  const hv = h / 4; // vectors per quarter block
  const base = n / (2 * t); // stage t uses twiddle base+i for block i; stage t/2 uses 2·base+2i and +1
  f.declare('i32', 'pb', 'tw', 'tw2', 'pj', 'pend', 'aend');
  f.declare('v128', 'W', 'WS', 'WA', 'WSA', 'WB', 'WSB', 'X0', 'X1', 'X2', 'X3');
  const quad = (ptr, off) => {
    const at = (k) => off + 4 * h * k;
    for (let k = 0; k < 4; k++) f.set(`X${k}`, load(ptr, at(k)));
    fwdButterflyOn(f, 'X0', 'X2', 'W', 'WS');
    fwdButterflyOn(f, 'X1', 'X3', 'W', 'WS');
    fwdButterflyOn(f, 'X0', 'X1', 'WA', 'WSA');
    fwdButterflyOn(f, 'X2', 'X3', 'WB', 'WSB');
    for (let k = 0; k < 4; k++) f.store(ptr, at(k), get(`X${k}`));
  };
  f.emit(`;; stages t=${t} and t=${h}`);
  f.set('pb', get('a'));
  f.set('aend', add32(get('a'), 4 * n));
  f.set('tw', add32(get('tbl'), TW('psi') + 4 * base));
  f.set('tw2', add32(get('tbl'), TW('psi') + 8 * base));
  f.open(`(loop $${label}`);
  f.set('W', splat32(get('tw')));
  f.set('WS', splat32(get('tw'), SH));
  f.set('WA', splat32(get('tw2')));
  f.set('WSA', splat32(get('tw2'), SH));
  f.set('WB', splat32(get('tw2'), 4));
  f.set('WSB', splat32(get('tw2'), 4 + SH));
  if (hv === 1) {
    quad(get('pb'), 0);
  } else {
    f.set('pj', get('pb'));
    f.set('pend', add32(get('pb'), 4 * h));
    f.open(`(loop $${label}_j`);
    quad(get('pj'), 0);
    quad(get('pj'), 16);
    f.set('pj', add32(get('pj'), 32));
    f.emit(`(br_if $${label}_j (i32.lt_u ${get('pj')} ${get('pend')}))`);
    f.close();
  }
  f.set('pb', add32(get('pb'), 8 * t));
  f.set('tw', add32(get('tw'), 4));
  f.set('tw2', add32(get('tw2'), 8));
  f.emit(`(br_if $${label} (i32.lt_u ${get('pb')} ${get('aend')}))`);
  f.close();
}

function nttForward() {
  const f = new Func(
    'ntt_fwd',
    ['a', 'tbl'],
    'forward 4096-point negacyclic NTT in place (natural → bit-reversed)',
  );
  const stages = Math.log2(N);
  const bound = 1 + 2 * stages; // in units of p, see the note above fwdButterflyOn
  if (bound * 2 ** MAX_P_BITS >= 2 ** 31) throw new Error('lazy forward NTT bound overflows');
  setModulusConstants(f, 'tbl', cascadeConstants(bound));
  // Stages n/2 … 4 in pairs, then t=2 and t=1 fused below: needs an even number of stages.
  if (stages % 2 !== 0) throw new Error('paired forward stages need log2(n) even');
  for (let t = N / 2; t >= 8; t >>= 2) emitFwdStagePair(f, { n: N, t, label: `f${t}` });
  f.declare('i32', 'tw1');
  f.emit(';; stages t=2 and t=1 fused, 16 elements per iteration');
  f.set('pb', get('a'));
  f.set('tw', add32(get('tbl'), TW('fwdT2')));
  f.set('tw1', add32(get('tbl'), TW('psi') + 4 * (N / 2)));
  f.open('(loop $f21');
  fwdLastTwo(f, get('pb'), 0, get('tw'), 0, get('tw1'), 0, bound);
  fwdLastTwo(f, get('pb'), 32, get('tw'), 16, get('tw1'), 16, bound);
  f.set('pb', add32(get('pb'), 64));
  f.set('tw', add32(get('tw'), 32));
  f.set('tw1', add32(get('tw1'), 32));
  f.emit(`(br_if $f21 (i32.lt_u ${get('pb')} ${get('aend')}))`);
  f.close();
  return f;
}

/**
 * Inverse NTT of n points: fused t=1/t=2 pass, radix-2 stages, and a last stage that folds in 1/n.
 * Shared by the 4096-point transform and the 128-point score extraction (loops there measured as fast
 * as full unrolling, at a third of the code).
 */
function inverseNtt(name, n, comment, tables) {
  const f = new Func(name, ['a', 'tbl'], comment);
  setModulusConstants(f, 'tbl');
  f.declare('i32', 'pb', 'tw', 'tw1', 'aend');
  f.emit(';; stages t=1 and t=2 fused, 16 elements per iteration');
  f.set('pb', get('a'));
  f.set('aend', add32(get('a'), 4 * n));
  f.set('tw', add32(get('tbl'), TW(tables.t2)));
  f.set('tw1', add32(get('tbl'), TW(tables.psi) + 4 * (n / 2)));
  f.open('(loop $i12');
  invFirstTwo(f, get('pb'), 0, get('tw1'), 0, get('tw'), 0);
  invFirstTwo(f, get('pb'), 32, get('tw1'), 16, get('tw'), 16);
  f.set('pb', add32(get('pb'), 64));
  f.set('tw', add32(get('tw'), 32));
  f.set('tw1', add32(get('tw1'), 32));
  f.emit(`(br_if $i12 (i32.lt_u ${get('pb')} ${get('aend')}))`);
  f.close();
  for (let t = 4; t < n / 2; t <<= 1) {
    emitStage(f, { n, t, twOff: TW(tables.psi), butterfly: invButterfly, label: `i${t}` });
  }
  f.emit(`;; stage t=${n / 2} with the 1/${n} factor`);
  f.declare('v128', 'NI', 'NIS', 'LW', 'LWS');
  f.set('NI', splat32(get('tbl'), CONST(tables.nInv)));
  f.set('NIS', splat32(get('tbl'), CONST(tables.nInv) + SH));
  f.set('LW', splat32(get('tbl'), CONST(tables.lastInv)));
  f.set('LWS', splat32(get('tbl'), CONST(tables.lastInv) + SH));
  f.set('pb', get('a'));
  f.set('aend', add32(get('a'), 4 * (n / 2)));
  f.open('(loop $ilast');
  for (let k = 0; k < 4; k++) invLastButterfly(f, get('pb'), 16 * k, get('pb'), 16 * k + 4 * (n / 2));
  f.set('pb', add32(get('pb'), 64));
  f.emit(`(br_if $ilast (i32.lt_u ${get('pb')} ${get('aend')}))`);
  f.close();
  return f;
}

const nttInverse = () =>
  inverseNtt('ntt_inv', N, `inverse ${N}-point negacyclic NTT in place, including 1/n`, {
    psi: 'ipsi',
    t2: 'invT2',
    nInv: 'nInv',
    lastInv: 'lastInv',
  });

const intt128 = () =>
  inverseNtt(
    'intt128',
    GROUPS,
    `inverse ${GROUPS}-point negacyclic NTT over ψ^32 in place, including 1/${GROUPS}`,
    {
      psi: 'psi128',
      t2: 'psi128T2',
      nInv: 'n128Inv',
      lastInv: 'last128Inv',
    },
  );

// ---------------------------------------------------------------------------------------------------------
// Multiply-accumulate kernels over the block layout ([g][quad][chunk][lane]).

function setMontConstants(f) {
  f.declare('v128', 'P', 'PN');
  f.set('P', op('i32x4.splat', `(i32.load ${get('tbl')})`));
  f.set('PN', op('i32x4.splat', `(i32.load offset=4 ${get('tbl')})`));
}

/** lo/hi += x·y (u64 lanes) for the vectors at xPtr+off, yPtr+off. */
function mac(f, lo, hi, xPtr, yPtr, off) {
  f.declare('v128', 'mx', 'my');
  f.set('mx', load(xPtr, off));
  f.set('my', load(yPtr, off));
  f.set(lo, op('i64x2.add', get(lo), op('i64x2.extmul_low_i32x4_u', get('mx'), get('my'))));
  f.set(hi, op('i64x2.add', get(hi), op('i64x2.extmul_high_i32x4_u', get('mx'), get('my'))));
}

/**
 * A chain of `len` unrolled steps entered at step `skip` (Duff's device): one copy of straight-line code
 * serves every chunk count. Pointers are biased by −16·skip so step k reads offset 16k; callers pass
 * pointers ≥ headerBytes ≥ 16·len, so the biased pointer never wraps.
 */
function duffChain(f, len, label, step) {
  if (16 * len > KERNEL_LAYOUT.headerBytes) throw new Error('a biased chain pointer could wrap');
  // The blocks are not indented: 64 levels would bury the code. Each step in its own basic block also
  // keeps TurboFan from hoisting all loads to the top and spilling (measured).
  for (let k = len - 1; k >= 0; k--) f.emit(`(block $${label}${k}`);
  const targets = Array.from({ length: len }, (_, k) => `$${label}${k}`).join(' ');
  f.emit(`(br_table ${targets} ${get('skip')})`);
  for (let k = 0; k < len; k++) {
    f.emit(`) ;; $${label}${k}: step ${k}`);
    step(k);
  }
}

/**
 * c1 scoring (the prototype's mac_red, any chunk count): per quad of 4 slots, one Duff chain over the
 * chunks into u64 lanes, then a fused Montgomery reduction. ≤ 64 products < 64·p² < 2^32·p keeps the
 * Montgomery precondition. The generic chain measured as fast as a chain specialised for 12 chunks.
 */
function macMont() {
  const J = KERNEL_LAYOUT.maxChunks.macMont;
  const f = new Func(
    'mac_mont',
    ['poly', 'qm', 'chunks', 'tbl', 'out'],
    `out[c] = Σ_j poly·qm · 2^-32 mod p, natural order; chunks ≤ ${J}`,
  );
  setMontConstants(f);
  f.declare('i32', 'skip', 'pp', 'pq', 'stride', 'end');
  f.declare('v128', 'lo', 'hi', 'r');
  f.set('skip', op('i32.sub', i32c(J), get('chunks')));
  f.set('pp', op('i32.sub', get('poly'), op('i32.shl', get('skip'), i32c(4))));
  f.set('pq', op('i32.sub', get('qm'), op('i32.shl', get('skip'), i32c(4))));
  f.set('stride', op('i32.shl', get('chunks'), i32c(4)));
  f.set('end', add32(get('out'), 4 * N));
  f.open('(loop $quad');
  f.set('lo', ZERO);
  f.set('hi', ZERO);
  duffChain(f, J, 'j', (k) => mac(f, 'lo', 'hi', get('pp'), get('pq'), 16 * k));
  montgomery(f, 'r', 'lo', 'hi');
  f.emit(`(v128.store ${get('out')} ${condSub(get('r'), get('P'))})`);
  f.set('pp', op('i32.add', get('pp'), get('stride')));
  f.set('pq', op('i32.add', get('pq'), get('stride')));
  f.set('out', add32(get('out'), 16));
  f.emit(`(br_if $quad (i32.lt_u ${get('out')} ${get('end')}))`);
  f.close();
  return f;
}

/** Encrypted-query cross term: two products per chunk, so ≤ 32 chunks keep the same 64-product bound. */
function macMont2() {
  const J = KERNEL_LAYOUT.maxChunks.macMont2;
  const f = new Func(
    'mac_mont2',
    ['a', 'x', 'b', 'y', 'chunks', 'tbl', 'out'],
    `out[c] = Σ_j (a·x + b·y) · 2^-32 mod p, natural order; chunks ≤ ${J}`,
  );
  setMontConstants(f);
  f.declare('i32', 'skip', 'bias', 'pa', 'px', 'pb', 'py', 'stride', 'end');
  f.declare('v128', 'lo', 'hi', 'r');
  f.set('skip', op('i32.sub', i32c(J), get('chunks')));
  f.set('bias', op('i32.shl', get('skip'), i32c(4)));
  for (const [pt, src] of [
    ['pa', 'a'],
    ['px', 'x'],
    ['pb', 'b'],
    ['py', 'y'],
  ]) {
    f.set(pt, op('i32.sub', get(src), get('bias')));
  }
  f.set('stride', op('i32.shl', get('chunks'), i32c(4)));
  f.set('end', add32(get('out'), 4 * N));
  f.open('(loop $quad');
  f.set('lo', ZERO);
  f.set('hi', ZERO);
  duffChain(f, J, 'j', (k) => {
    mac(f, 'lo', 'hi', get('pa'), get('px'), 16 * k);
    mac(f, 'lo', 'hi', get('pb'), get('py'), 16 * k);
  });
  montgomery(f, 'r', 'lo', 'hi');
  f.emit(`(v128.store ${get('out')} ${condSub(get('r'), get('P'))})`);
  for (const pt of ['pa', 'px', 'pb', 'py']) f.set(pt, op('i32.add', get(pt), get('stride')));
  f.set('out', add32(get('out'), 16));
  f.emit(`(br_if $quad (i32.lt_u ${get('out')} ${get('end')}))`);
  f.close();
  return f;
}

/**
 * Folded c0 dot: per group one linear pass over chunks·32 words, two accumulator pairs, then i64.rem_u.
 * Four MACs per iteration: with more, TurboFan hoists every load to the top of the loop and spills.
 */
function foldDot() {
  const f = new Func(
    'fold_dot',
    ['poly', 'qf', 'chunks', 'tbl', 'out'],
    `out[g] = Σ over group g's chunks·32 words of poly·qf mod p; chunks ≤ ${KERNEL_LAYOUT.maxChunks.foldDot}`,
  );
  f.declare('i32', 'pp', 'pq', 'gend', 'end');
  f.declare('i64', 'p64');
  f.declare('v128', 'a0', 'a1', 'b0', 'b1', 's');
  f.set('p64', `(i64.load32_u ${get('tbl')})`);
  f.set('pp', get('poly'));
  f.set('pq', get('qf'));
  f.set('end', add32(get('out'), 4 * GROUPS));
  f.open('(loop $group');
  for (const acc of ['a0', 'a1', 'b0', 'b1']) f.set(acc, ZERO);
  f.set('gend', op('i32.add', get('pp'), op('i32.shl', get('chunks'), i32c(7))));
  f.open('(loop $row');
  for (let k = 0; k < 4; k++) {
    const [lo, hi] = k % 2 === 0 ? ['a0', 'a1'] : ['b0', 'b1'];
    mac(f, lo, hi, get('pp'), get('pq'), 16 * k);
  }
  f.set('pp', add32(get('pp'), 64));
  f.set('pq', add32(get('pq'), 64));
  f.emit(`(br_if $row (i32.lt_u ${get('pp')} ${get('gend')}))`);
  f.close();
  f.set('s', op('i64x2.add', op('i64x2.add', get('a0'), get('b0')), op('i64x2.add', get('a1'), get('b1'))));
  f.emit(
    `(i32.store ${get('out')} (i32.wrap_i64 (i64.rem_u (i64.add (i64x2.extract_lane 0 ${get('s')}) (i64x2.extract_lane 1 ${get('s')})) ${get('p64')})))`,
  );
  f.set('out', add32(get('out'), 4));
  f.emit(`(br_if $group (i32.lt_u ${get('out')} ${get('end')}))`);
  f.close();
  return f;
}

/** Query vectors per row iteration (2 and 4 measured the same; 2 needs fewer registers). */
const FOLD_PAIR_VECS = 2;

/**
 * foldDot for two blocks against one query: each query vector is loaded once for both blocks, so a
 * pass reads 6 bytes per product instead of 8 (the query no longer fits in L2 at 12 chunks × 2 primes).
 * One accumulator pair per block keeps the register count at the single-block kernel's.
 */
function foldDotPair() {
  const f = new Func(
    'fold_dot_pair',
    ['pa', 'pb', 'qf', 'chunks', 'tbl', 'oa', 'ob'],
    `fold_dot of blocks a and b against one qf; chunks ≤ ${KERNEL_LAYOUT.maxChunks.foldDot}`,
  );
  f.declare('i32', 'pq', 'gend', 'end');
  f.declare('i64', 'p64');
  f.declare('v128', 'a0', 'a1', 'b0', 'b1', 'q', 'x', 's');
  f.set('p64', `(i64.load32_u ${get('tbl')})`);
  f.set('pq', get('qf'));
  f.set('end', add32(get('oa'), 4 * GROUPS));
  f.open('(loop $group');
  for (const acc of ['a0', 'a1', 'b0', 'b1']) f.set(acc, ZERO);
  f.set('gend', op('i32.add', get('pq'), op('i32.shl', get('chunks'), i32c(7))));
  f.open('(loop $row');
  for (let k = 0; k < FOLD_PAIR_VECS; k++) {
    f.set('q', load(get('pq'), 16 * k));
    for (const [ptr, lo, hi] of [
      ['pa', 'a0', 'a1'],
      ['pb', 'b0', 'b1'],
    ]) {
      f.set('x', load(get(ptr), 16 * k));
      f.set(lo, op('i64x2.add', get(lo), op('i64x2.extmul_low_i32x4_u', get('x'), get('q'))));
      f.set(hi, op('i64x2.add', get(hi), op('i64x2.extmul_high_i32x4_u', get('x'), get('q'))));
    }
  }
  for (const pt of ['pa', 'pb', 'pq']) f.set(pt, add32(get(pt), 16 * FOLD_PAIR_VECS));
  f.emit(`(br_if $row (i32.lt_u ${get('pq')} ${get('gend')}))`);
  f.close();
  for (const [lo, hi, out] of [
    ['a0', 'a1', 'oa'],
    ['b0', 'b1', 'ob'],
  ]) {
    f.set('s', op('i64x2.add', get(lo), get(hi)));
    f.emit(
      `(i32.store ${get(out)} (i32.wrap_i64 (i64.rem_u (i64.add (i64x2.extract_lane 0 ${get('s')}) (i64x2.extract_lane 1 ${get('s')})) ${get('p64')})))`,
    );
    f.set(out, add32(get(out), 4));
  }
  f.emit(`(br_if $group (i32.lt_u ${get('oa')} ${get('end')}))`);
  f.close();
  return f;
}

/** macMont for two blocks against one query (as foldDotPair: each query vector is loaded once). */
function macMontPair() {
  const J = KERNEL_LAYOUT.maxChunks.macMont;
  const f = new Func(
    'mac_mont_pair',
    ['pa', 'pb', 'qm', 'chunks', 'tbl', 'oa', 'ob'],
    `mac_mont of blocks a and b against one qm; chunks ≤ ${J}`,
  );
  setMontConstants(f);
  f.declare('i32', 'skip', 'bias', 'xa', 'xb', 'pq', 'stride', 'end');
  f.declare('v128', 'alo', 'ahi', 'blo', 'bhi', 'q', 'x', 'r');
  f.set('skip', op('i32.sub', i32c(J), get('chunks')));
  f.set('bias', op('i32.shl', get('skip'), i32c(4)));
  for (const [pt, src] of [
    ['xa', 'pa'],
    ['xb', 'pb'],
    ['pq', 'qm'],
  ]) {
    f.set(pt, op('i32.sub', get(src), get('bias')));
  }
  f.set('stride', op('i32.shl', get('chunks'), i32c(4)));
  f.set('end', add32(get('oa'), 4 * N));
  f.open('(loop $quad');
  for (const acc of ['alo', 'ahi', 'blo', 'bhi']) f.set(acc, ZERO);
  duffChain(f, J, 'j', (k) => {
    f.set('q', load(get('pq'), 16 * k));
    for (const [ptr, lo, hi] of [
      ['xa', 'alo', 'ahi'],
      ['xb', 'blo', 'bhi'],
    ]) {
      f.set('x', load(get(ptr), 16 * k));
      f.set(lo, op('i64x2.add', get(lo), op('i64x2.extmul_low_i32x4_u', get('x'), get('q'))));
      f.set(hi, op('i64x2.add', get(hi), op('i64x2.extmul_high_i32x4_u', get('x'), get('q'))));
    }
  });
  for (const [lo, hi, out] of [
    ['alo', 'ahi', 'oa'],
    ['blo', 'bhi', 'ob'],
  ]) {
    montgomery(f, 'r', lo, hi);
    f.emit(`(v128.store ${get(out)} ${condSub(get('r'), get('P'))})`);
    f.set(out, add32(get(out), 16));
  }
  for (const pt of ['xa', 'xb', 'pq']) f.set(pt, op('i32.add', get(pt), get('stride')));
  f.emit(`(br_if $quad (i32.lt_u ${get('oa')} ${get('end')}))`);
  f.close();
  return f;
}

/**
 * Vault fold: out[a] = (y[a] + Σ_{i<32} w·r[32a+i]) mod p, one group per iteration. w is secret-derived,
 * so the reduction is division-free and branch-free, in scalar i64: Montgomery (x < 2^32·p) gives
 * x·2^-32 in [0, 2p), a Shoup multiply by 2^32 mod p restores x, and a sign mask subtracts p if needed.
 * (Four groups per SIMD iteration were slower: TurboFan hoists the 64 loads and spills.)
 */
function foldAccumulate() {
  const f = new Func(
    'fold_acc',
    ['y', 'r', 'w', 'tbl', 'out'],
    'out[a] = (y[a] + Σ_{i<32} w[32a+i]·r[32a+i]) mod p',
  );
  f.declare('i32', 'end', 'p', 'pn', 'rm', 'm', 'v');
  f.declare('i64', 'p64', 'rms', 'x', 't');
  f.declare('v128', 'lo', 'hi', 's');
  f.set('p', `(i32.load ${get('tbl')})`);
  f.set('p64', `(i64.extend_i32_u ${get('p')})`);
  f.set('pn', `(i32.load offset=4 ${get('tbl')})`);
  f.set('rm', `(i32.load offset=${CONST('montR')} ${get('tbl')})`);
  f.set('rms', `(i64.load32_u offset=${CONST('montR') + SH} ${get('tbl')})`);
  f.set('end', add32(get('out'), 4 * GROUPS));
  f.open('(loop $group');
  f.set('lo', ZERO);
  f.set('hi', ZERO);
  for (let k = 0; k < 8; k++) mac(f, 'lo', 'hi', get('w'), get('r'), 16 * k);
  f.set('s', op('i64x2.add', get('lo'), get('hi')));
  f.set(
    'x',
    `(i64.add (i64.add (i64x2.extract_lane 0 ${get('s')}) (i64x2.extract_lane 1 ${get('s')})) (i64.load32_u ${get('y')}))`,
  );
  f.set('m', `(i32.mul (i32.wrap_i64 ${get('x')}) ${get('pn')})`);
  f.set(
    't',
    `(i64.shr_u (i64.add ${get('x')} (i64.mul (i64.extend_i32_u ${get('m')}) ${get('p64')})) (i64.const 32))`,
  );
  f.set(
    'v',
    `(i32.sub (i32.mul (i32.wrap_i64 ${get('t')}) ${get('rm')}) (i32.mul (i32.wrap_i64 (i64.shr_u (i64.mul ${get('t')} ${get('rms')}) (i64.const 32))) ${get('p')}))`,
  );
  f.set('v', `(i32.sub ${get('v')} ${get('p')})`);
  f.emit(
    `(i32.store ${get('out')} (i32.add ${get('v')} (i32.and (i32.shr_s ${get('v')} (i32.const 31)) ${get('p')})))`,
  );
  for (const pt of ['r', 'w']) f.set(pt, add32(get(pt), 128));
  for (const pt of ['y', 'out']) f.set(pt, add32(get(pt), 4));
  f.emit(`(br_if $group (i32.lt_u ${get('out')} ${get('end')}))`);
  f.close();
  return f;
}

/** out[c] = (a·b + add) mod p: Montgomery gives a·b·2^-32, a Shoup multiply by 2^32 mod p undoes it. */
function mulAdd() {
  const f = new Func(
    'mul_add',
    ['out', 'a', 'b', 'add', 'tbl'],
    'out[c] = (a[c]·b[c] + add[c]) mod p; out may alias add',
  );
  setMontConstants(f);
  f.declare('i32', 'end');
  f.declare('v128', 'RM', 'RMS', 'x', 'y', 'lo', 'hi', 't', 'u');
  f.set('RM', splat32(get('tbl'), CONST('montR')));
  f.set('RMS', splat32(get('tbl'), CONST('montR') + SH));
  f.set('end', add32(get('out'), 4 * N));
  f.open('(loop $vec');
  for (let k = 0; k < 2; k++) {
    const off = 16 * k;
    f.set('x', load(get('a'), off));
    f.set('y', load(get('b'), off));
    f.set('lo', op('i64x2.extmul_low_i32x4_u', get('x'), get('y')));
    f.set('hi', op('i64x2.extmul_high_i32x4_u', get('x'), get('y')));
    montgomery(f, 't', 'lo', 'hi');
    shoup(f, 'u', 't', 'RM', 'RMS');
    f.set('u', op('i32x4.add', condSub(get('u'), get('P')), load(get('add'), off)));
    f.store(get('out'), off, condSub(get('u'), get('P')));
  }
  for (const pt of ['a', 'b', 'add', 'out']) f.set(pt, add32(get(pt), 32));
  f.emit(`(br_if $vec (i32.lt_u ${get('out')} ${get('end')}))`);
  f.close();
  return f;
}

/**
 * Block insert: region[off(c, j)] = (region[off(c, j)] + src[j·stride + c]·row[c/32]) mod p. Per group of
 * 32 slots, chunk by chunk: chunk j's 128 source bytes are contiguous, its 8 quads in the region are
 * chunks·16 bytes apart (the group's chunks·128 bytes stay in L1). Walking quads across chunks instead
 * would read 12+ streams 16 KiB apart, which alias in L1 (measured 3× slower). The row (the slot's
 * shift, negated for a delete) is public, so its Shoup constants come from i64.div_u, one per group.
 */
function blockAccumulate() {
  const f = new Func(
    'block_acc',
    ['region', 'src', 'stride', 'chunks', 'row', 'tbl'],
    'region[off(c, j)] = (region[off(c, j)] + src[j·stride + c]·row[c/32]) mod p, block layout',
  );
  f.declare('i32', 'p', 'w', 'end', 'cs', 'gend', 'pj', 'pq', 'ps');
  f.declare('i64', 'p64');
  f.declare('v128', 'P', 'W', 'WS', 'X', 'V');
  f.set('p', `(i32.load ${get('tbl')})`);
  f.set('P', op('i32x4.splat', get('p')));
  f.set('p64', `(i64.extend_i32_u ${get('p')})`);
  f.set('end', op('i32.add', get('region'), op('i32.shl', get('chunks'), i32c(Math.log2(4 * N)))));
  f.set('cs', op('i32.shl', get('chunks'), i32c(4)));
  f.open('(loop $group');
  f.set('w', `(i32.load ${get('row')})`);
  f.set('W', op('i32x4.splat', get('w')));
  f.set(
    'WS',
    op(
      'i32x4.splat',
      `(i32.wrap_i64 (i64.div_u (i64.shl (i64.extend_i32_u ${get('w')}) (i64.const 32)) ${get('p64')}))`,
    ),
  );
  f.set('pj', get('region'));
  f.set('ps', get('src'));
  f.set('gend', op('i32.add', get('region'), get('cs')));
  f.open('(loop $chunk');
  f.set('pq', get('pj'));
  for (let k = 0; k < 8; k++) {
    f.set('X', load(get('ps'), 16 * k));
    shoup(f, 'V', 'X', 'W', 'WS');
    f.set('V', op('i32x4.add', load(get('pq')), condSub(get('V'), get('P'))));
    f.store(get('pq'), 0, condSub(get('V'), get('P')));
    if (k < 7) f.set('pq', op('i32.add', get('pq'), get('cs')));
  }
  f.set('ps', op('i32.add', get('ps'), get('stride')));
  f.set('pj', add32(get('pj'), 16));
  f.emit(`(br_if $chunk (i32.lt_u ${get('pj')} ${get('gend')}))`);
  f.close();
  f.set('region', op('i32.add', get('region'), op('i32.shl', get('cs'), i32c(3))));
  f.set('src', add32(get('src'), 128));
  f.set('row', add32(get('row'), 4));
  f.emit(`(br_if $group (i32.lt_u ${get('region')} ${get('end')}))`);
  f.close();
  return f;
}

/**
 * Ternary rejection sampling: scans `len` bytes, writing b mod 3 − 1 for each byte b ≠ 255 into the i32
 * array `out` from index `start` until `count` are filled; returns the new fill index. Values are
 * computed without branches ((b·171) >> 9 = ⌊b/3⌋); the only branches and store positions depend on
 * where rejected bytes are, which is independent of the accepted values (as in the JS reference).
 */
function ternary() {
  const f = new Func(
    'ternary',
    ['bytes', 'len', 'out', 'start', 'count'],
    'out[i++] = b mod 3 − 1 for bytes b ≠ 255 until i = count; returns i',
    'i32',
  );
  f.declare('i32', 'pb', 'bend', 'po', 'oend', 'b', 'ok');
  f.declare('v128', 'B', 'X', 'C171', 'C3', 'C1');
  f.set('C171', op('i16x8.splat', i32c(171)));
  f.set('C3', op('i16x8.splat', i32c(3)));
  f.set('C1', op('i16x8.splat', i32c(1)));
  f.set('pb', get('bytes'));
  f.set('bend', op('i32.add', get('bytes'), get('len')));
  f.set('po', op('i32.add', get('out'), op('i32.shl', get('start'), i32c(2))));
  f.set('oend', op('i32.add', get('out'), op('i32.shl', get('count'), i32c(2))));
  f.open('(block $done');
  f.open('(loop $byte');
  f.emit(`(br_if $done (i32.ge_u ${get('po')} ${get('oend')}))`);
  f.emit(`(br_if $done (i32.ge_u ${get('pb')} ${get('bend')}))`);
  // 16 bytes at once when there is room and none of them is rejected (~94% of the time).
  f.open(
    `(if (i32.and (i32.le_u ${add32(get('pb'), 16)} ${get('bend')}) (i32.le_u ${add32(get('po'), 64)} ${get('oend')}))`,
  );
  f.open('(then');
  f.set('B', load(get('pb')));
  f.open(`(if (i8x16.all_true (i8x16.ne ${get('B')} (i8x16.splat (i32.const 255))))`);
  f.open('(then');
  for (const [h, half] of [
    [0, 'low'],
    [1, 'high'],
  ]) {
    f.set('X', op(`i16x8.extend_${half}_i8x16_u`, get('B')));
    const q = op('i16x8.shr_u', op('i16x8.mul', get('X'), get('C171')), i32c(9));
    f.set('X', op('i16x8.sub', op('i16x8.sub', get('X'), op('i16x8.mul', q, get('C3'))), get('C1')));
    f.store(get('po'), 32 * h, op('i32x4.extend_low_i16x8_s', get('X')));
    f.store(get('po'), 32 * h + 16, op('i32x4.extend_high_i16x8_s', get('X')));
  }
  f.set('pb', add32(get('pb'), 16));
  f.set('po', add32(get('po'), 64));
  f.emit('(br $byte)');
  f.close();
  f.close();
  f.close();
  f.close();
  // One byte: a rejected byte leaves out[i] as it was (select, not a branch) and does not advance i.
  f.set('b', `(i32.load8_u ${get('pb')})`);
  f.set('ok', `(i32.ne ${get('b')} (i32.const 255))`);
  const q = `(i32.shr_u (i32.mul ${get('b')} (i32.const 171)) (i32.const 9))`;
  const v = `(i32.sub (i32.sub ${get('b')} (i32.mul ${q} (i32.const 3))) (i32.const 1))`;
  f.emit(`(i32.store ${get('po')} (select ${v} (i32.load ${get('po')}) ${get('ok')}))`);
  f.set('po', op('i32.add', get('po'), op('i32.shl', get('ok'), i32c(2))));
  f.set('pb', add32(get('pb'), 1));
  f.emit('(br $byte)');
  f.close();
  f.close();
  f.emit(`(i32.shr_u (i32.sub ${get('po')} ${get('out')}) (i32.const 2))`);
  return f;
}

/** Per-lane popcount of four u32 lanes: byte popcounts summed pairwise (no table, no branch). */
const popcnt32 = (x) =>
  op('i32x4.extadd_pairwise_i16x8_u', op('i16x8.extadd_pairwise_i8x16_u', op('i8x16.popcnt', x)));

/**
 * CBD: out[i] = popcount(a & mask) − popcount(b & mask) as i32 for i < count, with a, b the words at
 * bytes + 8i and bytes + 8i + 4 (any alignment: v128.load and i32.load need none).
 */
function cbd() {
  const f = new Func(
    'cbd',
    ['bytes', 'mask', 'out', 'count'],
    'out[i] = popcount(word 2i & mask) − popcount(word 2i+1 & mask), i < count, words at any alignment',
  );
  f.declare('i32', 'oend', 'vend');
  f.declare('v128', 'M', 'A', 'B');
  f.set('M', op('i32x4.splat', get('mask')));
  f.set('oend', op('i32.add', get('out'), op('i32.shl', get('count'), i32c(2))));
  f.set('vend', op('i32.add', get('out'), op('i32.shl', op('i32.and', get('count'), i32c(-4)), i32c(2))));
  f.open('(block $vdone');
  f.emit(`(br_if $vdone (i32.ge_u ${get('out')} ${get('vend')}))`);
  f.open('(loop $vec');
  f.set('A', popcnt32(op('v128.and', load(get('bytes')), get('M'))));
  f.set('B', popcnt32(op('v128.and', load(get('bytes'), 16), get('M'))));
  f.store(
    get('out'),
    0,
    op('i32x4.sub', shuf32(EVEN32, get('A'), get('B')), shuf32(ODD32, get('A'), get('B'))),
  );
  f.set('bytes', add32(get('bytes'), 32));
  f.set('out', add32(get('out'), 16));
  f.emit(`(br_if $vec (i32.lt_u ${get('out')} ${get('vend')}))`);
  f.close();
  f.close();
  f.open('(block $done');
  f.open('(loop $tail');
  f.emit(`(br_if $done (i32.ge_u ${get('out')} ${get('oend')}))`);
  const pc = (off) =>
    `(i32.popcnt (i32.and (i32.load${off ? ` offset=${off}` : ''} ${get('bytes')}) ${get('mask')}))`;
  f.emit(`(i32.store ${get('out')} (i32.sub ${pc(0)} ${pc(4)}))`);
  f.set('bytes', add32(get('bytes'), 8));
  f.set('out', add32(get('out'), 4));
  f.emit('(br $tail)');
  f.close();
  f.close();
  return f;
}

/** Signed small integers (|x| < p, as i32) to residues: out = x + (p if x < 0), branch-free. */
function smallToResidues() {
  const f = new Func('small_res', ['src', 'tbl', 'out'], 'out[c] = src[c] mod p for i32 |src[c]| < p, c < n');
  f.declare('i32', 'end');
  f.declare('v128', 'P', 'X');
  f.set('P', op('i32x4.splat', `(i32.load ${get('tbl')})`));
  f.set('end', add32(get('out'), 4 * N));
  f.open('(loop $vec');
  for (let k = 0; k < 4; k++) {
    f.set('X', load(get('src'), 16 * k));
    f.store(
      get('out'),
      16 * k,
      op('i32x4.add', get('X'), op('v128.and', op('i32x4.shr_s', get('X'), i32c(31)), get('P'))),
    );
  }
  f.set('src', add32(get('src'), 64));
  f.set('out', add32(get('out'), 64));
  f.emit(`(br_if $vec (i32.lt_u ${get('out')} ${get('end')}))`);
  f.close();
  return f;
}

/** Plaintext baseline: 4 f32x4 accumulators over 16 floats per step, then 4 floats per step. */
function dotF32() {
  const f = new Func(
    'dot_f32',
    ['db', 'q', 'dim', 'count', 'out'],
    'out[v] = Σ_d db[v·dim+d]·q[d] (float32); dim a multiple of 4',
  );
  f.declare('i32', 'qend16', 'qend', 'pq', 'oend');
  f.declare('v128', 'a0', 'a1', 'a2', 'a3');
  const fmac = (acc, off) =>
    f.set(acc, op('f32x4.add', get(acc), op('f32x4.mul', load(get('db'), off), load(get('pq'), off))));
  f.set('qend', op('i32.add', get('q'), op('i32.shl', get('dim'), i32c(2))));
  f.set('qend16', op('i32.add', get('q'), op('i32.shl', op('i32.and', get('dim'), i32c(-16)), i32c(2))));
  f.set('oend', op('i32.add', get('out'), op('i32.shl', get('count'), i32c(2))));
  f.open('(block $done');
  f.emit(`(br_if $done (i32.ge_u ${get('out')} ${get('oend')}))`);
  f.open('(loop $vec');
  for (const acc of ['a0', 'a1', 'a2', 'a3']) f.set(acc, ZERO);
  f.set('pq', get('q'));
  f.open('(block $d16');
  f.emit(`(br_if $d16 (i32.ge_u ${get('pq')} ${get('qend16')}))`);
  f.open('(loop $l16');
  for (let k = 0; k < 4; k++) fmac(`a${k}`, 16 * k);
  f.set('db', add32(get('db'), 64));
  f.set('pq', add32(get('pq'), 64));
  f.emit(`(br_if $l16 (i32.lt_u ${get('pq')} ${get('qend16')}))`);
  f.close();
  f.close();
  f.open('(block $d4');
  f.emit(`(br_if $d4 (i32.ge_u ${get('pq')} ${get('qend')}))`);
  f.open('(loop $l4');
  fmac('a0', 0);
  f.set('db', add32(get('db'), 16));
  f.set('pq', add32(get('pq'), 16));
  f.emit(`(br_if $l4 (i32.lt_u ${get('pq')} ${get('qend')}))`);
  f.close();
  f.close();
  f.set('a0', op('f32x4.add', op('f32x4.add', get('a0'), get('a1')), op('f32x4.add', get('a2'), get('a3'))));
  const lane = (i) => `(f32x4.extract_lane ${i} ${get('a0')})`;
  f.emit(
    `(f32.store ${get('out')} (f32.add (f32.add ${lane(0)} ${lane(1)}) (f32.add ${lane(2)} ${lane(3)})))`,
  );
  f.set('out', add32(get('out'), 4));
  f.emit(`(br_if $vec (i32.lt_u ${get('out')} ${get('oend')}))`);
  f.close();
  f.close();
  return f;
}

// ---------------------------------------------------------------------------------------------------------

export function generateWat() {
  const funcs = [
    nttForward(),
    nttInverse(),
    intt128(),
    mulAdd(),
    foldDot(),
    macMont(),
    macMont2(),
    foldDotPair(),
    macMontPair(),
    foldAccumulate(),
    dotF32(),
    blockAccumulate(),
    ternary(),
    cbd(),
    smallToResidues(),
  ];
  return [
    ';; GENERATED by packages/crypto/scripts/build-kernels.mjs — do not edit; regenerate with `npm run build:wasm`.',
    ';; Rune WebAssembly SIMD kernels. All pointers are byte offsets into the imported shared memory;',
    ';; `tbl` points at a prime table block (layout in KERNEL_LAYOUT of kernels-wasm.ts).',
    '(module',
    '  (import "env" "memory" (memory 1 65536 shared))',
    ...funcs.map((fn) => fn.text()),
    ')',
    '',
  ].join('\n');
}

/** A TypeScript object literal (unquoted keys, one per line) for plain data. */
function literal(value, indent) {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const inner = `${indent}  `;
  const entries = Object.entries(value).map(([k, v]) => `${inner}${k}: ${literal(v, inner)},`);
  return `{\n${entries.join('\n')}\n${indent}}`;
}

/** Builds the kernels: `{ wat, wasm, source }` where `source` is the text of kernels-wasm.ts. */
export async function buildKernels() {
  const wat = generateWat();
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const parsed = wabt.parseWat('kernels.wat', wat, features);
  try {
    parsed.resolveNames();
    parsed.validate(features);
    const wasm = parsed.toBinary({}).buffer;
    const base64 = Buffer.from(wasm).toString('base64');
    const source = [
      '// GENERATED by packages/crypto/scripts/build-kernels.mjs — do not edit.',
      '// Regenerate with `npm run build:wasm`; the WAT for review is in kernels.wat next to this file.',
      '',
      '/** Memory and table-block layout shared by the kernel module and its runtime (wasm-kernels.ts). */',
      `export const KERNEL_LAYOUT = ${literal(KERNEL_LAYOUT, '')} as const;`,
      '',
      `export const KERNELS_WASM_BASE64 =\n  '${base64}';`,
      '',
    ].join('\n');
    return { wat, wasm, source };
  } finally {
    parsed.destroy();
  }
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = join(here, '..', 'src', 'wasm');
  const { wat, wasm, source } = await buildKernels();
  writeFileSync(join(outDir, 'kernels.wat'), wat);
  writeFileSync(join(outDir, 'kernels-wasm.ts'), source);
  process.stdout.write(`kernels: ${wasm.length} bytes of wasm, ${wat.split('\n').length} lines of WAT\n`);
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await main();
}

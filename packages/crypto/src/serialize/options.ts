/** Options of the residue serialisers. */
export interface SerializeOptions {
  /** Bit-pack residues at ceil(log2 p) = 26 bits (default true); false writes u32 words (~23 % larger). */
  readonly packed?: boolean;
}

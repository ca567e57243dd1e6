import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// Loaded through require: the package's type declarations pull the DOM library into the program.
const hcl2json = createRequire(import.meta.url)('@cdktf/hcl2json') as {
  parse(filename: string, contents: string): Promise<unknown>;
};

export const TERRAFORM_DIR = join(import.meta.dirname, '..', 'terraform');
export const MODULE_DIR = join(TERRAFORM_DIR, 'modules', 'rune-cloud-init');
export const CLOUDS = ['aws', 'gcp', 'oci'] as const;
export type Cloud = (typeof CLOUDS)[number];

/** One block's attributes as hcl2json gives them: expressions stay strings such as "${var.x}". */
export type Block = Readonly<Record<string, unknown>>;

/** The blocks of every .tf file of one Terraform module directory, keyed by name. */
export interface TerraformConfig {
  readonly dir: string;
  readonly files: readonly string[];
  readonly variables: ReadonlyMap<string, Block>;
  readonly outputs: ReadonlyMap<string, Block>;
  readonly modules: ReadonlyMap<string, Block>;
  /** Keyed "type.name". */
  readonly resources: ReadonlyMap<string, Block>;
  /** Keyed "type.name". */
  readonly data: ReadonlyMap<string, Block>;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown, what: string): Block {
  if (!isRecord(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
}

/** Nested blocks (ingress { … } ingress { … }) come as an array of objects; absent is empty. */
export function nestedBlocks(block: Block, key: string): Block[] {
  const value = block[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${key} is not a list of blocks`);
  return value.map((item, i) => asRecord(item, `${key}[${i}]`));
}

function addUnique(map: Map<string, Block>, key: string, value: unknown, file: string): void {
  if (map.has(key)) throw new Error(`${key} is declared twice (again in ${file})`);
  map.set(key, asRecord(value, key));
}

/** Each labelled block arrives as { label: [ {…} ] }. */
function single(value: unknown, what: string): unknown {
  if (!Array.isArray(value) || value.length !== 1) throw new Error(`${what}: expected one block`);
  return value[0];
}

export async function loadTerraformDir(dir: string): Promise<TerraformConfig> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort();
  const variables = new Map<string, Block>();
  const outputs = new Map<string, Block>();
  const modules = new Map<string, Block>();
  const resources = new Map<string, Block>();
  const data = new Map<string, Block>();
  for (const file of files) {
    const parsed = asRecord(await hcl2json.parse(file, await readFile(join(dir, file), 'utf8')), file);
    for (const [name, value] of Object.entries(asRecord(parsed.variable ?? {}, 'variable'))) {
      addUnique(variables, name, single(value, `variable ${name}`), file);
    }
    for (const [name, value] of Object.entries(asRecord(parsed.output ?? {}, 'output'))) {
      addUnique(outputs, name, single(value, `output ${name}`), file);
    }
    for (const [name, value] of Object.entries(asRecord(parsed.module ?? {}, 'module'))) {
      addUnique(modules, name, single(value, `module ${name}`), file);
    }
    for (const [kind, target] of [
      ['resource', resources],
      ['data', data],
    ] as const) {
      for (const [type, byName] of Object.entries(asRecord(parsed[kind] ?? {}, kind))) {
        for (const [name, value] of Object.entries(asRecord(byName, `${kind} ${type}`))) {
          addUnique(target, `${type}.${name}`, single(value, `${kind} ${type}.${name}`), file);
        }
      }
    }
  }
  return { dir, files, variables, outputs, modules, resources, data };
}

/** Resources of one type, keyed by their name. */
export function resourcesOfType(config: TerraformConfig, type: string): Map<string, Block> {
  const found = new Map<string, Block>();
  for (const [key, block] of config.resources) {
    if (key.startsWith(`${type}.`)) found.set(key.slice(type.length + 1), block);
  }
  return found;
}

/** The inside of an interpolation-only string, e.g. "${var.admin_cidr}" → "var.admin_cidr". */
export function expressionOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\$\{(.*)\}$/s.exec(value);
  return match?.[1];
}

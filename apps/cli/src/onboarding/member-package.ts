import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import type { PackageConfig } from './package-config.js';
import { packageReadme } from './package-readme.js';
import type { TargetOs } from './os-target.js';

/** ZIP external attributes are Unix mode << 16 with "made by" Unix (3). */
const UNIX = 3;
const PRIVATE_FILE = { os: UNIX, attrs: (0o100600 << 16) >>> 0 };
const SCRIPT_FILE = { os: UNIX, attrs: (0o100755 << 16) >>> 0 };
const PLAIN_FILE = { os: UNIX, attrs: (0o100644 << 16) >>> 0 };

export interface PackageInput {
  readonly memberName: string;
  readonly os: TargetOs;
  readonly config: PackageConfig;
  /** An npm tarball of Rune to ship inside the package (setup installs it). */
  readonly tarball?: { readonly name: string; readonly bytes: Uint8Array };
  /** Fixed timestamp for reproducible zips (tests); default now. */
  readonly mtime?: Date;
}

/** A name safe in a file name on every OS: letters, digits, dot, dash, underscore. */
export function packageBaseName(memberName: string): string {
  const safe = memberName
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+|_+$/g, '');
  return `${safe === '' ? 'member' : safe.slice(0, 64)}_rune_package`;
}

function template(name: string): Promise<string> {
  return readFile(new URL(`./templates/${name}`, import.meta.url), 'utf8');
}

/**
 * The member package: one folder with the config (0600: it is a credential), the setup script for
 * the member's OS, a README, and optionally a Rune tarball. Returns the zip's bytes.
 */
export async function buildMemberPackage(input: PackageInput): Promise<Uint8Array> {
  const folder = packageBaseName(input.memberName);
  const mtime = input.mtime ?? new Date();
  const enc = new TextEncoder();
  const isWindows = input.os === 'windows';
  const script = isWindows ? 'setup.ps1' : 'setup.sh';
  let scriptText = await template(script);
  // Windows PowerShell 5.1 reads BOM-less files as the ANSI code page; CRLF keeps Notepad happy.
  if (isWindows) scriptText = `\ufeff${scriptText.replace(/\r?\n/g, '\r\n')}`;
  const entries: Zippable = {
    [`${folder}/vault-config.json`]: [
      enc.encode(`${JSON.stringify(input.config, null, 2)}\n`),
      { ...PRIVATE_FILE, mtime },
    ],
    [`${folder}/${script}`]: [enc.encode(scriptText), { ...(isWindows ? PLAIN_FILE : SCRIPT_FILE), mtime }],
    [`${folder}/README.md`]: [
      enc.encode(
        packageReadme({
          memberName: input.memberName,
          os: input.os,
          vaultUrl: input.config.vaultUrl,
          isInvitation: input.config.invitation !== undefined,
          hasTarball: input.tarball !== undefined,
        }),
      ),
      { ...PLAIN_FILE, mtime },
    ],
  };
  if (input.tarball !== undefined) {
    // setup finds it as rune-*.tgz.
    const name = basename(input.tarball.name);
    entries[`${folder}/${name.startsWith('rune-') ? name : `rune-${name}`}`] = [
      input.tarball.bytes,
      { ...PLAIN_FILE, mtime, level: 0 },
    ];
  }
  return zipSync(entries, { level: 6 });
}

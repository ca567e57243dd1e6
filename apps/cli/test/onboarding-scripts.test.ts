import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { buildMemberPackage, packageBaseName } from '../src/onboarding/member-package.js';

const TEMPLATES = new URL('../src/onboarding/templates/', import.meta.url);
const SETUP_SH = fileURLToPath(new URL('setup.sh', TEMPLATES));
const SETUP_PS1 = fileURLToPath(new URL('setup.ps1', TEMPLATES));

function shellcheck(path: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('shellcheck', ['--shell=sh', '--severity=style', path], (err, stdout, stderr) => {
      resolve({
        code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1,
        output: stdout + stderr,
      });
    });
  });
}

/**
 * A structural check of PowerShell (no pwsh on this machine): strings, comments, here-strings and
 * `$( )` subexpressions inside double quotes are tokenised, and every bracket must close in order.
 * Returns the problems found, empty when the script is well formed.
 */
function powershellStructure(source: string): string[] {
  const problems: string[] = [];
  const stack: { char: string; line: number }[] = [];
  const closers: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  /** Each frame: code, or a double-quoted string whose `$(` opens a code frame. */
  const modes: ('code' | 'dq')[] = ['code'];
  let line = 1;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] ?? '';
    const next = source[i + 1] ?? '';
    if (c === '\n') line++;
    const mode = modes[modes.length - 1];
    if (mode === 'dq') {
      if (c === '`') i++;
      else if (c === '"' && next === '"') i++;
      else if (c === '"') modes.pop();
      else if (c === '$' && next === '(') {
        stack.push({ char: '$(', line });
        modes.push('code');
        i++;
      }
      continue;
    }
    if (c === '<' && next === '#') {
      const end = source.indexOf('#>', i + 2);
      if (end === -1) return [...problems, `line ${line}: block comment never closed`];
      line += (source.slice(i, end).match(/\n/g) ?? []).length;
      i = end + 1;
    } else if (c === '#') {
      while (i < source.length && source[i + 1] !== '\n') i++;
    } else if (c === '@' && (next === '"' || next === "'") && source[i + 2] === '\n') {
      const end = source.indexOf(`\n${next}@`, i + 2);
      if (end === -1) return [...problems, `line ${line}: here-string never closed`];
      line += (source.slice(i, end + 1).match(/\n/g) ?? []).length;
      i = end + 2;
    } else if (c === "'") {
      let j = i + 1;
      for (; j < source.length; j++) {
        if (source[j] === "'" && source[j + 1] === "'") j++;
        else if (source[j] === "'") break;
        else if (source[j] === '\n') line++;
      }
      if (j >= source.length) return [...problems, `line ${line}: single-quoted string never closed`];
      i = j;
    } else if (c === '"') {
      modes.push('dq');
    } else if (c === '`') {
      i++;
    } else if (c === '(' || c === '{' || c === '[') {
      stack.push({ char: c, line });
    } else if (c === ')' || c === '}' || c === ']') {
      const open = stack.pop();
      const expected = closers[c];
      if (open === undefined) problems.push(`line ${line}: "${c}" closes nothing`);
      else if (open.char === '$(' && c === ')') {
        if (modes.length > 1) modes.pop();
      } else if (open.char !== expected)
        problems.push(`line ${line}: "${c}" closes "${open.char}" from line ${open.line}`);
    }
  }
  if (modes.length > 1) problems.push('a double-quoted string never closed');
  for (const open of stack) problems.push(`line ${open.line}: "${open.char}" never closed`);
  return problems;
}

/** Shell syntax that means nothing (or something else) in PowerShell. */
const BASH_ISMS: readonly [RegExp, string][] = [
  [/^\s*(?:fi|then|done|esac|elif)\b/m, 'if/then/fi or loop keywords'],
  [/^\s*(?:export|set -e|set -eu|umask)\b/m, 'POSIX shell builtins'],
  [/\[\s+-[a-z]\s/, 'test brackets ([ -f … ])'],
  [/&&|\|\|/, '&& or || (not in Windows PowerShell 5.1)'],
  [/\/dev\/null/, '/dev/null'],
  [/^#!/m, 'a shebang'],
  [/\$\{[A-Za-z_]+:-/, '${VAR:-default}'],
  [/\bcommand -v\b/, 'command -v'],
];

function steps(source: string): string[] {
  return [...source.matchAll(/^# step: ([a-z-]+)$/gm)].map((m) => m[1] ?? '');
}

describe('setup.sh', () => {
  it('never installs an unnamed registry package, nor hands the config to another "rune"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-setup-'));
    try {
      const bin = join(dir, 'bin');
      const { mkdir, chmod, copyFile } = await import('node:fs/promises');
      await mkdir(bin);
      await copyFile(SETUP_SH, join(dir, 'setup.sh'));
      await writeFile(join(dir, 'vault-config.json'), '{}');
      // npm must never run; node answers the version check.
      await writeFile(join(bin, 'npm'), '#!/bin/sh\necho npm-was-called >&2\nexit 9\n');
      await writeFile(join(bin, 'node'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$@"\n`);
      for (const f of ['npm', 'node']) await chmod(join(bin, f), 0o755);
      const run = (env: NodeJS.ProcessEnv) =>
        new Promise<{ code: number; stderr: string }>((resolve) => {
          execFile('sh', [join(dir, 'setup.sh')], { env }, (err, _stdout, stderr) => {
            resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr });
          });
        });
      const base = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir };
      const noPackage = await run(base);
      expect(noPackage.code).toBe(1);
      expect(noPackage.stderr).toContain('no Rune package');
      expect(noPackage.stderr).not.toContain('npm-was-called');
      // A different tool named rune on PATH is refused before it sees the config.
      await writeFile(join(bin, 'rune'), '#!/bin/sh\necho "rune: a game engine"\necho got-config >&2\n');
      await chmod(join(bin, 'rune'), 0o755);
      const impostor = await run(base);
      expect(impostor.code).toBe(1);
      expect(impostor.stderr).toContain('is not Rune');
      expect(impostor.stderr).not.toContain('got-config');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('passes shellcheck', async () => {
    const result = await shellcheck(SETUP_SH);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('fails shellcheck when broken (the check is real)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-sc-'));
    try {
      const broken = join(dir, 'broken.sh');
      await writeFile(broken, `${await readFile(SETUP_SH, 'utf8')}\nrm -rf $here/*\n`);
      expect((await shellcheck(broken)).code).not.toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('setup.ps1', () => {
  it('is structurally valid PowerShell: balanced blocks, closed strings, no bash-isms', async () => {
    const source = await readFile(SETUP_PS1, 'utf8');
    expect(powershellStructure(source)).toEqual([]);
    for (const [pattern, what] of BASH_ISMS) expect(pattern.test(source), what).toBe(false);
  });

  it('the structural check catches unbalanced blocks and open strings', () => {
    expect(powershellStructure('if ($a) { Write-Host "x" ')).toEqual(['line 1: "{" never closed']);
    expect(powershellStructure("Write-Host 'open")).toEqual(['line 1: single-quoted string never closed']);
    expect(powershellStructure('Write-Host "$($env:USERNAME:F"')).not.toEqual([]);
    expect(powershellStructure('Write-Host "a $($x -join \', \') b" # ) comment')).toEqual([]);
    expect(powershellStructure('@(1, 2]')).toEqual(['line 1: "]" closes "(" from line 1']);
  });

  it('takes the same steps as setup.sh, with the same switches and agent registrations', async () => {
    const sh = await readFile(SETUP_SH, 'utf8');
    const ps1 = await readFile(SETUP_PS1, 'utf8');
    expect(steps(sh)).toEqual(['install', 'configure', 'status', 'mcp', 'done']);
    expect(steps(ps1)).toEqual(steps(sh));
    for (const needle of [
      'RUNE_BIN',
      'RUNE_TARBALL',
      'RUNE_NPM_PACKAGE',
      'RUNE_CONFIG',
      'rune-*.tgz',
      'npm install --global',
      'configure --from',
      'vault-config.json',
      'claude mcp add --scope user rune',
      'gemini mcp add --scope user rune',
      'codex mcp add rune',
    ]) {
      expect(sh, needle).toContain(needle);
      expect(ps1, needle).toContain(needle);
    }
  });
});

describe('package names', () => {
  it('are safe file names on every OS', () => {
    expect(packageBaseName('alice')).toBe('alice_rune_package');
    expect(packageBaseName('Chloé Dupont')).toBe('Chloe_Dupont_rune_package');
    expect(packageBaseName('../../etc/passwd')).toBe('etc_passwd_rune_package');
    expect(packageBaseName('***')).toBe('member_rune_package');
  });
});

describe('buildMemberPackage', () => {
  it('ships a Rune tarball as rune-*.tgz (what setup looks for) and warns in the README', async () => {
    const zip = await buildMemberPackage({
      memberName: 'erin',
      os: 'linux',
      config: {
        version: 1,
        vaultUrl: 'https://vault.example.com',
        indexUrl: 'https://index.example.com',
        indexId: 'team',
        publicKeyHash: 'ab'.repeat(32),
        vaultKeyId: 'cd'.repeat(16),
        name: 'erin',
        email: 'erin@example.com',
        invitation: `rune_inv_${'x'.repeat(43)}`,
      },
      tarball: { name: '/tmp/build/cli-0.1.0.tgz', bytes: new Uint8Array([1, 2, 3]) },
    });
    const files = unzipSync(zip);
    expect(files['erin_rune_package/rune-cli-0.1.0.tgz']).toEqual(new Uint8Array([1, 2, 3]));
    const readme = new TextDecoder().decode(files['erin_rune_package/README.md']);
    expect(readme).toContain('one-time invitation');
    expect(readme).toContain('from the rune-*.tgz in this package');
    expect(readme).toContain('only over an encrypted channel');
  });
});

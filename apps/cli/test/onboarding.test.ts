import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMemberConfig } from '@rune/client';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_DIR, type UpProcess, fakeAgents, run, startUp } from './onboarding-helpers.js';
import { RUNE_BIN } from './run-rune.js';

const isPosix = process.platform !== 'win32';

let root: string;
let adminHome: string;
let up: UpProcess;
let adminEnv: NodeJS.ProcessEnv;
const insight = `The ${randomBytes(3).toString('hex')} ledger runs on PostgreSQL because we need serializable transactions`;

function rune(args: readonly string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, [RUNE_BIN, ...args], { env });
}

/** A new member's machine: an empty HOME, the agents' stand-ins first on PATH, Rune from this checkout. */
async function memberMachine(name: string) {
  const home = join(root, `home-${name}`);
  await mkdir(home, { mode: 0o700 });
  const log = join(root, `${name}-agents.log`);
  await fakeAgents(join(root, `bin-${name}`), log);
  const env = {
    HOME: home,
    PATH: `${join(root, `bin-${name}`)}:${NODE_DIR}:/usr/bin:/bin`,
    RUNE_BIN,
    NO_COLOR: '1',
  };
  return { home, log, env };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rune-onboarding-'));
  adminHome = join(root, 'home-admin');
  await mkdir(adminHome, { mode: 0o700 });
  adminEnv = { HOME: adminHome, PATH: `${NODE_DIR}:/usr/bin:/bin`, NO_COLOR: '1' };
  up = await startUp(join(root, 'data'), adminEnv);
});

afterAll(async () => {
  await up.stop();
  await rm(root, { recursive: true, force: true });
});

describe.runIf(isPosix)('fresh environment: rune up, team add, setup.sh, recall', () => {
  it('turns an empty HOME into a configured member whose recall finds what the admin captured', async () => {
    expect(up.line.memberConfig).toBe(join(adminHome, '.config', 'rune', 'vault-config.json'));
    const captured = await rune(['capture', '--insight', insight], adminEnv);
    expect(captured.code, captured.stderr).toBe(0);

    const out = join(root, 'packages');
    const added = await rune(
      [
        'team',
        'add',
        '--name',
        'alice',
        '--email',
        'alice@example.com',
        '--os',
        'linux',
        '--out',
        out,
        '--json',
      ],
      adminEnv,
    );
    expect(added.code, added.stderr).toBe(0);
    const summary = JSON.parse(added.stdout) as { package: string; memberId: string };
    expect(summary.package).toBe(join(out, 'alice_rune_package.zip'));
    expect((await stat(summary.package)).mode & 0o777).toBe(0o600);

    // Inside the zip: the config is 0600 (external attributes), setup.sh 0755, and the token is alice's own.
    const zip = await readFile(summary.package);
    const files = unzipSync(zip);
    expect(Object.keys(files).sort()).toEqual([
      'alice_rune_package/README.md',
      'alice_rune_package/setup.sh',
      'alice_rune_package/vault-config.json',
    ]);
    const modes = zipModes(zip);
    expect(modes.get('alice_rune_package/vault-config.json')).toBe(0o600);
    expect(modes.get('alice_rune_package/setup.sh')).toBe(0o755);
    const admin = await readMemberConfig(up.line.memberConfig);
    const packaged = JSON.parse(new TextDecoder().decode(files['alice_rune_package/vault-config.json'])) as {
      token: string;
      memberId: string;
      name: string;
    };
    expect(packaged.token).not.toBe(admin.token);
    expect(packaged).toMatchObject({ memberId: summary.memberId, name: 'alice' });
    const readme = new TextDecoder().decode(files['alice_rune_package/README.md']);
    expect(readme).toContain('encrypted channel');
    expect(readme).toContain('Troubleshooting');

    const alice = await memberMachine('alice');
    const unzipped = await run('unzip', ['-q', summary.package, '-d', join(root, 'alice-download')], {
      env: alice.env,
    });
    expect(unzipped.code, unzipped.stderr).toBe(0);
    const pkgDir = join(root, 'alice-download', 'alice_rune_package');
    expect((await stat(join(pkgDir, 'vault-config.json'))).mode & 0o777).toBe(0o600);

    const setup = await run('sh', [join(pkgDir, 'setup.sh')], { env: alice.env, cwd: pkgDir });
    expect(setup.code, `${setup.stdout}\n${setup.stderr}`).toBe(0);
    expect(setup.stdout).toContain('all good');
    const configPath = join(alice.home, '.config', 'rune', 'vault-config.json');
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(alice.home, '.config', 'rune'))).mode & 0o777).toBe(0o700);
    expect((await readMemberConfig(configPath)).token).toBe(packaged.token);

    const agents = await readFile(alice.log, 'utf8');
    expect(agents).toContain(`claude mcp add --scope user rune -- ${RUNE_BIN} mcp`);
    expect(agents).toContain(`gemini mcp add --scope user rune ${RUNE_BIN} mcp`);
    expect(agents).toContain(`codex mcp add rune -- ${RUNE_BIN} mcp`);

    const recalled = await rune(['recall', 'which database does the ledger use?', '--json'], {
      HOME: alice.home,
      PATH: alice.env.PATH,
    });
    expect(recalled.code, recalled.stderr).toBe(0);
    const hits = (JSON.parse(recalled.stdout) as { hits: { insight: string }[] }).hits;
    expect(hits.map((h) => h.insight)).toContain(insight);
  });

  it('onboards with a one-time invitation: setup redeems it once, a second redemption is refused', async () => {
    const out = join(root, 'packages-inv');
    const added = await rune(
      [
        'team',
        'add',
        '--name',
        'bob',
        '--email',
        'bob@example.com',
        '--os',
        'macos',
        '--invitation',
        '--out',
        out,
      ],
      adminEnv,
    );
    expect(added.code, added.stderr).toBe(0);
    const bob = await memberMachine('bob');
    await run('unzip', ['-q', join(out, 'bob_rune_package.zip'), '-d', join(root, 'bob-download')], {
      env: bob.env,
    });
    const pkgDir = join(root, 'bob-download', 'bob_rune_package');
    const packaged = JSON.parse(await readFile(join(pkgDir, 'vault-config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(packaged.token).toBeUndefined();
    expect(packaged.invitation).toMatch(/^rune_inv_/);

    const setup = await run('sh', [join(pkgDir, 'setup.sh')], { env: bob.env, cwd: pkgDir });
    expect(setup.code, `${setup.stdout}\n${setup.stderr}`).toBe(0);
    const saved = await readMemberConfig(join(bob.home, '.config', 'rune', 'vault-config.json'));
    expect(saved.name).toBe('bob');
    expect(saved.memberId).toMatch(/^mem_/);

    const again = await run('sh', [join(pkgDir, 'setup.sh')], { env: bob.env, cwd: pkgDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[INVITATION_REFUSED]');
  });

  it('lists, rotates and removes members; a rotated or removed token fails rune status with its fix', async () => {
    const listed = await rune(['team', 'list', '--json'], adminEnv);
    expect(listed.code, listed.stderr).toBe(0);
    const members = (JSON.parse(listed.stdout) as { members: { name: string; status: string }[] }).members;
    expect(members.map((m) => m.name)).toEqual(expect.arrayContaining(['admin', 'alice', 'bob']));
    expect(JSON.stringify(members)).not.toMatch(/rune_[A-Za-z0-9_-]{43}/);

    const aliceEnv = { HOME: join(root, 'home-alice'), PATH: `${NODE_DIR}:/usr/bin:/bin`, NO_COLOR: '1' };
    const rotated = await rune(['team', 'rotate', 'alice', '--json'], adminEnv);
    expect(rotated.code, rotated.stderr).toBe(0);
    const status = await rune(['status', '--json'], aliceEnv);
    expect(status.code).toBe(1);
    const report = JSON.parse(status.stdout) as {
      ok: boolean;
      checks: { id: string; code?: string; fix?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.code !== undefined)).toMatchObject({
      id: 'vault.token',
      code: 'TOKEN_REFUSED',
    });

    const removed = await rune(['team', 'remove', 'bob@example.com'], adminEnv);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('revoked bob');
    const bobStatus = await rune(['status'], {
      HOME: join(root, 'home-bob'),
      PATH: aliceEnv.PATH,
      NO_COLOR: '1',
    });
    expect(bobStatus.code).toBe(1);
    expect(bobStatus.stdout).toContain('[TOKEN_REFUSED]');
    expect(bobStatus.stdout).toContain('fix: ');

    const unknown = await rune(['team', 'remove', 'nobody'], adminEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('[MEMBER_NOT_FOUND]');
  });

  it('issues a one-time invitation code with the configure command to use it', async () => {
    const invited = await rune(['team', 'invite', '--role', 'reader', '--ttl-hours', '1'], adminEnv);
    expect(invited.code, invited.stderr).toBe(0);
    expect(invited.stdout.trim()).toMatch(/^rune_inv_[A-Za-z0-9_-]{43}$/);
    expect(invited.stderr).toContain('rune configure --vault-url');
  });

  it('builds a Windows package with setup.ps1 (CRLF, BOM) and no setup.sh', async () => {
    const out = join(root, 'packages-win');
    const added = await rune(
      [
        'team',
        'add',
        '--name',
        'Chloé Dupont',
        '--email',
        'chloe@example.com',
        '--os',
        'windows',
        '--out',
        out,
      ],
      adminEnv,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(await readdir(out)).toEqual(['Chloe_Dupont_rune_package.zip']);
    const files = unzipSync(await readFile(join(out, 'Chloe_Dupont_rune_package.zip')));
    const script = files['Chloe_Dupont_rune_package/setup.ps1'];
    expect(script).toBeDefined();
    expect(files['Chloe_Dupont_rune_package/setup.sh']).toBeUndefined();
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(script);
    expect(text.startsWith('\ufeff')).toBe(true);
    expect(text).toContain('\r\n');
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });
});

/** Unix modes from a zip's central directory (external attributes >> 16), by file name. */
function zipModes(zip: Uint8Array): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const modes = new Map<string, number>();
  for (let i = 0; i + 46 <= zip.byteLength; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(i + 28, true);
    const extraLength = view.getUint16(i + 30, true);
    const commentLength = view.getUint16(i + 32, true);
    const external = view.getUint32(i + 38, true);
    const name = new TextDecoder().decode(zip.subarray(i + 46, i + 46 + nameLength));
    modes.set(name, (external >>> 16) & 0o777);
    i += 45 + nameLength + extraLength + commentLength;
  }
  return modes;
}

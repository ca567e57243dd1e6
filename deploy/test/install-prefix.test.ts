// The automated path, run for real: the install-rune.sh that cloud-init runs, taken from the rendered
// user data, installs Rune from this checkout into a temporary prefix (RUNE_ROOT), then the Vault and
// the index are started exactly as the units it wrote say, and the health step and the token helper
// behind Terraform's vault_token output finish the job on loopback.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SAMPLE_SETTINGS,
  type Settings,
  parseCloudConfig,
  renderUserData,
  unitValues,
} from './cloud-init-render.js';
import { type StartedService, serviceCommand, startService } from './systemd-exec.js';
import { CLOUDS, MODULE_DIR, TERRAFORM_DIR } from './terraform-config.js';
import { INSTALL_HINT, findExecutable, run } from './tools.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const INSTALL_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 90_000; // tsx compiles the sources at start: slow on a loaded machine
const STOP_TIMEOUT_MS = 30_000; // the units' TimeoutStopSec=

// No domain, no public address to look up: nothing in the installation may reach the network.
const SETTINGS: Settings = {
  ...SAMPLE_SETTINGS,
  RUNE_PACKAGE_URL: `file://${REPO_ROOT}/`,
  RUNE_DOMAIN: '',
  RUNE_ACME_EMAIL: '',
  RUNE_PUBLIC_IP: '',
  RUNE_PUBLIC_IP_LOOKUP_URL: '',
  RUNE_RUN_INDEX: 'true',
};

/** Commands only the gated (system) steps run; in a prefix install none may be called. */
const SYSTEM_COMMANDS = [
  'apt-get',
  'systemctl',
  'ufw',
  'iptables',
  'netfilter-persistent',
  'useradd',
  'runuser',
  'nginx',
  'gpg',
  'npm',
  'lego',
  'cloud-init',
] as const;

/** System paths the installer writes on a VM; a prefix install must leave each as it was. */
const SYSTEM_PATHS = [
  '/etc/rune',
  '/opt/rune',
  '/var/lib/rune',
  '/var/lib/rune-deploy',
  '/var/lib/rune-tls',
  '/var/log/rune-install.log',
  '/etc/systemd/system/rune-vault.service',
  '/etc/systemd/system/rune-index.service',
  '/usr/local/sbin/rune-tls',
  '/usr/local/sbin/rune-bootstrap-token',
  '/usr/local/bin/rune',
  '/etc/nginx/sites-available/rune.conf',
  '/etc/apt/apt.conf.d/52rune-unattended-upgrades',
] as const;

function systemSnapshot(): Record<string, number | null> {
  return Object.fromEntries(
    SYSTEM_PATHS.map((path) => {
      try {
        return [path, statSync(path).mtimeMs];
      } catch {
        return [path, null];
      }
    }),
  );
}

/** Distinct free loopback ports: all held open at once, then released for the services. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            if (address === null || typeof address === 'string') reject(new Error('no port'));
            else resolve(address.port);
          });
        }),
    ),
  );
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Polls `url` until it answers 200, or the deadline passes (bounded; the service's log explains). */
async function waitReady(url: string, service: StartedService): Promise<unknown> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return await res.json();
      last = `HTTP ${String(res.status)}`;
    } catch (err: unknown) {
      last = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} is not ready (${last}); service output:\n${service.output()}`);
}

/** The Vault's or index's loopback URL, from the flags its unit's ExecStart passes. */
function loopbackUrl(start: readonly string[]): string {
  const flag = (name: string): string | undefined => start[start.indexOf(name) + 1];
  expect(start).toContain('--plain-http'); // nginx terminates TLS; the service speaks HTTP on loopback
  expect(flag('--host')).toBe('127.0.0.1');
  return `http://127.0.0.1:${flag('--port') ?? ''}`;
}

const shellcheck = findExecutable('shellcheck');
// The installer copies a checkout as git sees it (tracked and untracked, not ignored files).
const git = findExecutable('git');
const skipReason =
  git === undefined
    ? 'git is not installed'
    : run(git, ['-C', REPO_ROOT, 'rev-parse', '--is-inside-work-tree']).status === 0
      ? undefined
      : `${REPO_ROOT} is not a git checkout`;

describe.skipIf(skipReason !== undefined)(
  `install-rune.sh in a temporary prefix${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const userData = renderUserData(SETTINGS);
    const cloudConfig = parseCloudConfig(userData);
    const runcmd = cloudConfig.runcmd[0];
    const installerPath = typeof runcmd === 'string' ? undefined : runcmd?.[0];

    let prefix: string;
    let stubs: string;
    let callLog: string;
    let installer: string;
    let env: NodeJS.ProcessEnv;
    let before: Record<string, number | null>;
    let vaultPort: number;
    let indexPort: number;
    const services: StartedService[] = [];
    let vaultUrl: string;
    let isInstalled = false;
    /** Later steps need the earlier ones: fail at once rather than wait out a deadline. */
    const needs = (what: string, done: boolean): void => {
      if (!done) throw new Error(`skipped: ${what} failed above`);
    };
    /** No gated command ran, and curl went to the services on loopback only. */
    const expectNoSystemCalls = (): void => {
      const calls = readFileSync(callLog, 'utf8')
        .split('\n')
        .filter((line) => line !== '');
      expect(
        calls.filter((line) => !/^curl .* http:\/\/127\.0\.0\.1:\d+\/health\/ready$/.test(line)),
      ).toEqual([]);
      expect(systemSnapshot()).toEqual(before);
    };

    beforeAll(async () => {
      before = systemSnapshot();
      prefix = mkdtempSync(join(tmpdir(), 'rune-prefix-'));
      // Every file cloud-init writes, at its path under the prefix and with its mode.
      for (const file of cloudConfig.writeFiles) {
        const path = join(prefix, file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, file.content);
        chmodSync(path, Number.parseInt(file.permissions, 8));
      }
      installer = join(prefix, installerPath ?? 'missing');
      stubs = join(prefix, 'test-stubs');
      callLog = join(prefix, 'test-calls.log');
      mkdirSync(stubs);
      for (const name of SYSTEM_COMMANDS) {
        writeFileSync(join(stubs, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >>'${callLog}'\nexit 97\n`);
        chmodSync(join(stubs, name), 0o755);
      }
      // curl is allowed on loopback only: the wrapper records every call, then runs the real one.
      const curl = findExecutable('curl');
      if (curl !== undefined) {
        writeFileSync(
          join(stubs, 'curl'),
          `#!/bin/sh\nprintf '%s\\n' "curl $*" >>'${callLog}'\nexec ${curl} "$@"\n`,
        );
        chmodSync(join(stubs, 'curl'), 0o755);
      }
      writeFileSync(callLog, '');
      [vaultPort = 0, indexPort = 0] = await freePorts(2);
      const inherited = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('RUNE_')),
      );
      env = {
        ...inherited,
        PATH: `${stubs}:${process.env.PATH ?? ''}`,
        RUNE_ROOT: prefix,
        RUNE_VAULT_PORT: String(vaultPort),
        RUNE_INDEX_PORT: String(indexPort),
      };
    });

    afterAll(async () => {
      for (const service of services.reverse()) await service.stop(STOP_TIMEOUT_MS);
      rmSync(prefix, { recursive: true, force: true });
    });

    it('is the very script cloud-init runs: runcmd names it and write_files holds the module file byte for byte', () => {
      expect(cloudConfig.runcmd).toEqual([['/usr/local/lib/rune-deploy/install-rune.sh']]);
      const shipped = readFileSync(join(MODULE_DIR, 'files', 'install-rune.sh'), 'utf8');
      expect(readFileSync(installer, 'utf8')).toBe(shipped);
      expect(statSync(installer).mode & 0o777).toBe(0o755);
    });

    it(
      'installs every step from this checkout, skipping the system steps and changing nothing outside the prefix',
      { timeout: INSTALL_TIMEOUT_MS + 5_000 },
      () => {
        const result = run(installer, [], { env, timeoutMs: INSTALL_TIMEOUT_MS });
        expect(result.status, result.stderr).toBe(0);
        for (const step of ['packages', 'firewall', 'nginx'])
          expect(result.stderr).toContain(`skipped ${step}:`);
        expect(result.stderr).toContain('done: packages node firewall user app keys services tls nginx\n');

        const release = join(prefix, 'opt/rune/current');
        expect(readFileSync(join(release, 'apps/cli/bin/rune.js'), 'utf8')).toBe(
          readFileSync(join(REPO_ROOT, 'apps/cli/bin/rune.js'), 'utf8'),
        );
        const kek = join(prefix, 'etc/rune/credentials/vault-kek');
        expect(statSync(kek).mode & 0o777).toBe(0o600);
        expect(readFileSync(kek, 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(readFileSync(join(prefix, 'etc/rune/index-signing.pub'), 'utf8')).toMatch(
          /^[A-Za-z0-9_-]{43}\n$/,
        );

        expectNoSystemCalls();
        isInstalled = true;
      },
    );

    it('makes a private-CA certificate for localhost and 127.0.0.1 that a client pinning ca.crt accepts', async () => {
      needs('the installation', isInstalled);
      const tls = join(prefix, 'etc/rune/tls');
      expect(readFileSync(join(tls, 'live/source'), 'utf8')).toBe('private-ca\n');
      const server = createTlsServer(
        {
          cert: readFileSync(join(tls, 'live/fullchain.pem')),
          key: readFileSync(join(tls, 'live/privkey.pem')),
        },
        (_req, res) => res.end('ok'),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('no port');
        for (const host of ['localhost', '127.0.0.1']) {
          const body = await new Promise<string>((resolve, reject) => {
            const req = request(
              {
                host: '127.0.0.1',
                servername: host === 'localhost' ? host : '',
                port: address.port,
                ca: readFileSync(join(tls, 'ca.crt')),
                headers: { host },
              },
              (res) => {
                let text = '';
                res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
                res.on('end', () => {
                  resolve(text);
                });
              },
            );
            req.on('error', reject);
            req.end();
          });
          expect(body, host).toBe('ok');
        }
      } finally {
        await new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
      }
    });

    it(
      'writes a Vault unit whose ExecStart, run as systemd would, serves a ready Vault on loopback',
      { timeout: READY_TIMEOUT_MS + 5_000 },
      async () => {
        needs('the installation', isInstalled);
        const unit = readFileSync(join(prefix, 'etc/systemd/system/rune-vault.service'), 'utf8');
        const command = serviceCommand(unit, join(prefix, 'test-credentials/rune-vault'));
        expect(command.user).toBe(userInfo().username);
        expect(command.start).toContain('--kek-credential');
        expect(command.env.CREDENTIALS_DIRECTORY).toBeDefined();
        vaultUrl = loopbackUrl(command.start);
        expect(vaultUrl).toBe(`http://127.0.0.1:${String(vaultPort)}`);
        // The index the Vault trusts and plants canaries in: the one this installation created.
        expect(command.start.join(' ')).toContain(
          `--index-key-file ${prefix}/etc/rune/index-signing.pub --index-url http://127.0.0.1:${String(indexPort)}`,
        );
        const vault = startService(command);
        services.push(vault);
        expect(await waitReady(`${vaultUrl}/health/ready`, vault)).toEqual({ status: 'ready' });
      },
    );

    it(
      'writes an index unit that starts after the Vault and becomes ready too',
      { timeout: READY_TIMEOUT_MS + 5_000 },
      async () => {
        needs('starting the Vault', services.length === 1);
        const unit = readFileSync(join(prefix, 'etc/systemd/system/rune-index.service'), 'utf8');
        expect(unitValues(unit, 'After').join(' ')).toContain('rune-vault.service');
        const command = serviceCommand(unit, join(prefix, 'test-credentials/rune-index'));
        const url = loopbackUrl(command.start);
        const index = startService(command);
        services.push(index);
        expect(url).toBe(`http://127.0.0.1:${String(indexPort)}`);
        expect(await waitReady(`${url}/health/ready`, index)).toMatchObject({ status: 'ready' });
      },
    );

    it(
      'finishes with the health step, which records the installation as healthy',
      { timeout: INSTALL_TIMEOUT_MS + 5_000 },
      () => {
        needs('starting the Vault and the index', services.length === 2);
        const result = run(installer, ['health'], { env, timeoutMs: INSTALL_TIMEOUT_MS });
        expect(result.status, result.stderr).toBe(0);
        expect(readFileSync(join(prefix, 'var/lib/rune-deploy/status'), 'utf8')).toBe('healthy\n');
        expect(readFileSync(callLog, 'utf8')).toContain('/health/ready'); // the step asked the services
        expectNoSystemCalls();
      },
    );

    it("prints, through the command Terraform's vault_token output runs, an admin token the Vault accepts", async () => {
      needs('starting the Vault', services.length > 0);
      for (const cloud of CLOUDS) {
        const outputs = readFileSync(join(TERRAFORM_DIR, cloud, 'outputs.tf'), 'utf8');
        expect(outputs, cloud).toMatch(
          /output "vault_token" \{[^}]*value\s*=\s*"ssh [^"]* sudo rune-bootstrap-token"/,
        );
      }
      const helper = join(prefix, 'usr/local/sbin/rune-bootstrap-token');
      const printed = run(helper, [], { env });
      expect(printed.status, printed.stderr).toBe(0);
      const token = printed.stdout.trim();
      expect(token).toMatch(/^\S{20,}$/);

      const members = await fetch(`${vaultUrl}/v1/members`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(members.status).toBe(200);
      const body = (await members.json()) as { members: { role?: string }[] };
      expect(body.members.map((m) => m.role)).toContain('admin');
      expect((await fetch(`${vaultUrl}/v1/members`)).status).toBe(401);

      expect(run(helper, ['--delete'], { env }).status).toBe(0);
      const again = run(helper, [], { env });
      expect(again.status).toBe(1);
      expect(again.stderr).toContain('already taken');
    });

    it('stops both services on SIGTERM, as systemctl stop does, within TimeoutStopSec', async () => {
      for (const service of [...services].reverse()) expect(await service.stop(STOP_TIMEOUT_MS)).toBe(0);
      services.length = 0;
    });

    it('refuses prefix-only settings on a VM: other ports, or a checkout as the package', () => {
      const shared = {
        ...env,
        RUNE_ROOT: '',
        RUNE_DEPLOY_ENV: join(prefix, 'etc/rune/deploy.env'),
        RUNE_INSTALL_LOG: join(prefix, 'var/log/vm-attempt.log'),
      };
      const defaultPorts = { ...shared, RUNE_VAULT_PORT: '', RUNE_INDEX_PORT: '' }; // empty: the defaults
      // Root is required first on a VM; the settings checks come right after it. The step named would
      // hit a stub (useradd) if the check let it through.
      const isRoot = process.getuid?.() === 0;
      for (const [vmEnv, refusal] of [
        [shared, /RUNE_VAULT_PORT and RUNE_INDEX_PORT are for prefix installs/],
        [defaultPorts, /a checkout directory as RUNE_PACKAGE_URL is for prefix installs/],
      ] as const) {
        const asVm = run(installer, ['user'], { env: vmEnv });
        expect(asVm.status).not.toBe(0);
        expect(asVm.stderr).toMatch(isRoot ? refusal : /run as root/);
      }
      expectNoSystemCalls();
    });
  },
);

describe('the steps a prefix install skips', () => {
  it.skipIf(shellcheck === undefined)('are shellcheck-clean along with the rest of the installer', () => {
    expect(shellcheck, INSTALL_HINT.shellcheck).toBeDefined();
    const path = join(MODULE_DIR, 'files', 'install-rune.sh');
    const result = run(shellcheck!, ['--severity=style', '--format=gcc', path]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('are each gated in the installer source', () => {
    const source = readFileSync(join(MODULE_DIR, 'files', 'install-rune.sh'), 'utf8');
    for (const step of ['packages', 'firewall', 'nginx']) {
      expect(source, step).toMatch(
        new RegExp(`step_${step}\\(\\) \\{\\n  skip_in_prefix ${step} && return\\n`),
      );
    }
  });
});

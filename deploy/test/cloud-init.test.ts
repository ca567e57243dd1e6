import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SAMPLE_SETTINGS,
  TEMPLATE_PATH,
  type WriteFile,
  moduleFiles,
  parseCloudConfig,
  renderDeployEnv,
  renderUserData,
  runcmdScript,
  templateFileReferences,
  unitValues,
} from './cloud-init-render.js';
import { MODULE_DIR } from './terraform-config.js';
import { INSTALL_HINT, atLeast, findExecutable, run, terraformVersion } from './tools.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY_LIB = '/usr/local/lib/rune-deploy';
/** AWS refuses user data over 16 KiB (before base64); the module sends it gzip-compressed. */
const AWS_USER_DATA_LIMIT_BYTES = 16 * 1024;

const userData = renderUserData();
const cloudConfig = parseCloudConfig(userData);
const scripts = cloudConfig.writeFiles.filter((f) => f.content.startsWith('#!'));
const units = cloudConfig.writeFiles.filter((f) => /\.(service|timer)$/.test(f.path));

function deployed(name: string): WriteFile {
  const file = cloudConfig.writeFiles.find((f) => f.path === `${DEPLOY_LIB}/${name}`);
  if (file === undefined) throw new Error(`${name} is not in write_files`);
  return file;
}

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'rune-cloud-init-'));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

/** A fresh directory under the test's temporary directory. */
function scratch(name: string): string {
  const dir = join(workDir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('cloud-init template', () => {
  it('names every file of files/ exactly once and interpolates nothing else', () => {
    const references = templateFileReferences(readFileSync(TEMPLATE_PATH, 'utf8'));
    expect([...references].sort()).toEqual([...moduleFiles().keys()].sort());
    expect(new Set(references).size).toBe(references.length);
  });

  it('renders YAML cloud-init reads: #cloud-config, plain-text write_files and a runcmd that runs the installer', () => {
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(cloudConfig.document.ssh_pwauth).toBe(false);
    expect(cloudConfig.runcmd).toEqual([[`${DEPLOY_LIB}/install-rune.sh`]]);
    for (const file of cloudConfig.writeFiles) {
      expect(file.owner, file.path).toBe('root:root');
      expect(file.permissions, file.path).toBe(file.content.startsWith('#!') ? '0755' : '0644');
    }
  });

  it('writes each module file byte for byte and the settings as deploy.env', () => {
    for (const [name, content] of moduleFiles()) expect(deployed(name).content, name).toBe(content);
    const env = cloudConfig.writeFiles.find((f) => f.path === '/etc/rune/deploy.env');
    expect(env?.content).toBe(renderDeployEnv(SAMPLE_SETTINGS));
  });

  it('fits the AWS user-data limit once gzip-compressed, with room to grow', () => {
    const size = gzipSync(userData).byteLength;
    expect(size).toBeLessThan(AWS_USER_DATA_LIMIT_BYTES - 2048);
  });
});

describe('scripts in the cloud-init', () => {
  const shellcheck = findExecutable('shellcheck');

  it('include the installer, the TLS upkeep and the token helper, all bash with strict mode', () => {
    expect(scripts.map((s) => basename(s.path)).sort()).toEqual([
      'install-rune.sh',
      'rune-bootstrap-token.sh',
      'rune-tls.sh',
    ]);
    for (const script of scripts) {
      expect(script.content.split('\n')[0], script.path).toBe('#!/usr/bin/env bash');
      expect(script.content, script.path).toContain('set -Eeuo pipefail');
    }
  });

  const checked: [string, string, readonly string[]][] = [
    ...scripts.map((s): [string, string, readonly string[]] => [s.path, s.content, []]),
    ['runcmd', runcmdScript(cloudConfig.runcmd), []],
    // deploy.env is sourced by bash; SC2034: its variables are used by the scripts that source it.
    ['/etc/rune/deploy.env', `#!/bin/sh\n${renderDeployEnv(SAMPLE_SETTINGS)}`, ['--exclude=SC2034']],
  ];

  it.each(checked)('%s passes shellcheck', (name, content, extra) => {
    expect(shellcheck, INSTALL_HINT.shellcheck).toBeDefined();
    const path = join(scratch('shellcheck'), basename(name));
    writeFileSync(path, content);
    const result = run(shellcheck!, ['--severity=style', '--format=gcc', ...extra, path]);
    expect(result.stdout + result.stderr, `shellcheck ${name}`).toBe('');
    expect(result.status).toBe(0);
  });

  it('shellcheck finds a planted mistake (the check bites)', () => {
    expect(shellcheck, INSTALL_HINT.shellcheck).toBeDefined();
    const path = join(scratch('shellcheck-bad'), 'bad.sh');
    writeFileSync(path, '#!/usr/bin/env bash\nrm -rf $1/data\n');
    expect(run(shellcheck!, ['--format=gcc', path]).status).not.toBe(0);
  });
});

describe('systemd units', () => {
  const vault = deployed('rune-vault.service').content;
  const index = deployed('rune-index.service').content;

  it('run the Vault and the index as the rune user, on loopback, with the KEK as a systemd credential', () => {
    for (const unit of [vault, index]) {
      expect(unitValues(unit, 'User')).toEqual(['rune']);
      const [execStart] = unitValues(unit, 'ExecStart');
      expect(execStart).toMatch(/--host 127\.0\.0\.1 /);
      expect(execStart).toContain('--plain-http');
    }
    expect(unitValues(vault, 'ExecStart')[0]).toContain('--kek-credential vault-kek');
    expect(unitValues(vault, 'ExecStart')[0]).not.toMatch(/--kek-(file|env)/);
    expect(unitValues(vault, 'LoadCredential')).toEqual(['vault-kek:/etc/rune/credentials/vault-kek']);
    expect(unitValues(index, 'LoadCredential')).toEqual([]);
    expect(unitValues(index, 'InaccessiblePaths').join(' ')).toContain('/etc/rune/credentials');
  });

  it('are hardened: no new privileges, read-only system, writes only to their own data directory', () => {
    for (const [unit, dataDir] of [
      [vault, '/var/lib/rune/vault'],
      [index, '/var/lib/rune/index'],
    ] as const) {
      expect(unitValues(unit, 'NoNewPrivileges')).toEqual(['yes']);
      expect(unitValues(unit, 'ProtectSystem')).toEqual(['strict']);
      expect(unitValues(unit, 'ProtectHome')).toEqual(['yes']);
      expect(unitValues(unit, 'PrivateTmp')).toEqual(['yes']);
      expect(unitValues(unit, 'CapabilityBoundingSet')).toEqual(['']);
      expect(unitValues(unit, 'ReadWritePaths')).toEqual([dataDir]);
      expect(unitValues(unit, 'ExecStart')[0]).toContain(`--data-dir ${dataDir} `);
      expect(unitValues(unit, 'StateDirectoryMode')).toEqual(['0700']);
    }
  });

  it('let the TLS upkeep write exactly where rune-tls writes', () => {
    const unit = deployed('rune-tls.service').content;
    const script = deployed('rune-tls.sh').content;
    expect(script).toContain('TLS_DIR=${RUNE_TLS_DIR:-/etc/rune/tls}');
    expect(script).toContain('ACME_DIR=${RUNE_ACME_DIR:-/var/lib/rune-tls}');
    expect(unitValues(unit, 'ProtectSystem')).toEqual(['full']);
    expect(unitValues(unit, 'ReadWritePaths')).toEqual(['/etc/rune/tls']);
    expect(unitValues(unit, 'StateDirectory')).toEqual(['rune-tls']);
  });

  it('pass only options the rune CLI knows', () => {
    const rune = join(REPO_ROOT, 'apps', 'cli', 'bin', 'rune.js');
    for (const unit of [vault, index]) {
      const execStart = unitValues(unit, 'ExecStart')[0] ?? '';
      const command = /rune\.js ([a-z]+ [a-z]+) /.exec(execStart)?.[1];
      expect(command).toBeDefined();
      const help = run(process.execPath, [rune, ...command!.split(' '), '--help'], { cwd: REPO_ROOT });
      expect(help.status, help.stderr).toBe(0);
      const flags = [...execStart.matchAll(/ (--[a-z-]+)/g)].map((m) => m[1]);
      // install-rune.sh writes these two into RUNE_VAULT_INDEX_ARGS.
      if (command === 'vault serve') flags.push('--index-key-file', '--index-url');
      for (const flag of flags) expect(help.stdout, `${command} ${flag}`).toContain(flag);
    }
  });

  const systemdAnalyze = findExecutable('systemd-analyze');
  // Probe: some containers cannot run verify at all; that is the environment, not the units.
  const probeReason = ((): string | undefined => {
    if (systemdAnalyze === undefined) return 'systemd-analyze is not installed (Debian package systemd)';
    const dir = mkdtempSync(join(tmpdir(), 'rune-systemd-probe-'));
    try {
      writeFileSync(join(dir, 'probe.service'), `[Service]\nExecStart=${process.execPath} --version\n`);
      const result = run(systemdAnalyze, ['verify', '--man=no', join(dir, 'probe.service')]);
      return result.status === 0
        ? undefined
        : `systemd-analyze verify cannot run here: ${result.stderr.trim()}`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();

  it.skipIf(probeReason !== undefined)(
    `pass systemd-analyze verify${probeReason === undefined ? '' : ` (skipped: ${probeReason})`}`,
    () => {
      const dir = scratch('systemd');
      // Paths the units run that exist only on the VM: node from NodeSource and the installed rune-tls.
      const tlsScript = join(dir, 'rune-tls');
      writeFileSync(tlsScript, deployed('rune-tls.sh').content);
      chmodSync(tlsScript, 0o755);
      const paths = units.map((unit) => {
        const path = join(dir, basename(unit.path));
        writeFileSync(
          path,
          unit.content
            .replaceAll('/usr/bin/node ', `${process.execPath} `)
            .replaceAll('/usr/local/sbin/rune-tls', tlsScript),
        );
        return path;
      });
      expect(paths.map((p) => basename(p)).sort()).toEqual([
        'rune-index.service',
        'rune-tls.service',
        'rune-tls.timer',
        'rune-vault.service',
      ]);
      const result = run(systemdAnalyze!, ['verify', '--man=no', ...paths]);
      // Warnings (an unknown key, say) exit 0 but still name the unit: any line about ours fails.
      const ours = `${result.stdout}\n${result.stderr}`
        .split('\n')
        .filter((line) => /rune-(vault|index|tls)/.test(line));
      expect(ours).toEqual([]);
      expect(result.status, result.stderr).toBe(0);
    },
  );
});

describe('nginx site', () => {
  const nginx = findExecutable('nginx');
  const openssl = findExecutable('openssl');
  const site = deployed('nginx-rune.conf').content;
  const indexSnippet = deployed('nginx-rune-index.conf').content;

  it('listens on 443 only and proxies only to the services on loopback', () => {
    const listens = [...`${site}\n${indexSnippet}`.matchAll(/^\s*listen\s+([^;]+);/gm)].map((m) => m[1]);
    expect(listens).toEqual(['443 ssl default_server', '[::]:443 ssl default_server']);
    const upstreams = [...`${site}\n${indexSnippet}`.matchAll(/proxy_pass\s+([^;]+);/g)].map((m) => m[1]);
    expect(new Set(upstreams)).toEqual(new Set(['http://127.0.0.1:50080', 'http://127.0.0.1:50090/']));
    for (const path of ['/metrics', '/status', '/index/metrics', '/index/status']) {
      expect(`${site}\n${indexSnippet}`, `${path} stays private`).toMatch(
        new RegExp(`location = ${path} \\{\\s*return 404;`),
      );
    }
  });

  /** Writes the site with its paths moved under `dir`, a throwaway certificate and a minimal nginx.conf. */
  function stage(dir: string, withIndex: boolean, extra = ''): string {
    const tls = join(dir, 'tls');
    const snippets = join(dir, 'rune.d');
    mkdirSync(tls, { recursive: true });
    mkdirSync(snippets, { recursive: true });
    const cert = run(openssl!, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(tls, 'privkey.pem'),
      '-out',
      join(tls, 'fullchain.pem'),
    ]);
    expect(cert.status, cert.stderr).toBe(0);
    if (withIndex) writeFileSync(join(snippets, 'index.conf'), indexSnippet);
    writeFileSync(
      join(dir, 'rune.conf'),
      site.replaceAll('/etc/rune/tls/live/', `${tls}/`).replaceAll('/etc/nginx/rune.d/', `${snippets}/`) +
        extra,
    );
    const main = join(dir, 'nginx.conf');
    writeFileSync(
      main,
      [
        `pid ${join(dir, 'nginx.pid')};`,
        'events {}',
        'http {',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (t) => `  ${t}_temp_path ${join(dir, t)};`,
        ),
        `  access_log ${join(dir, 'access.log')};`,
        `  include ${join(dir, 'rune.conf')};`,
        '}',
        '',
      ].join('\n'),
    );
    return main;
  }

  function nginxTest(main: string, dir: string): ReturnType<typeof run> {
    return run(nginx!, ['-t', '-q', '-p', dir, '-e', join(dir, 'error.log'), '-c', main]);
  }

  it.each([
    ['with the index on the VM', true],
    ['without the index', false],
  ])('passes nginx -t with a throwaway certificate, %s', (_name, withIndex) => {
    expect(nginx, INSTALL_HINT.nginx).toBeDefined();
    expect(openssl, INSTALL_HINT.openssl).toBeDefined();
    const dir = scratch(`nginx-${String(withIndex)}`);
    const result = nginxTest(stage(dir, withIndex), dir);
    expect(result.status, result.stderr).toBe(0);
  });

  it('nginx -t refuses a planted mistake (the check bites)', () => {
    expect(nginx, INSTALL_HINT.nginx).toBeDefined();
    expect(openssl, INSTALL_HINT.openssl).toBeDefined();
    const dir = scratch('nginx-bad');
    const result = nginxTest(
      stage(dir, true, '\nserver { listen 127.0.0.1:1; no_such_directive on; }\n'),
      dir,
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('no_such_directive');
  });
});

// Terraform itself, when installed (not a Debian or npm package, so CI machines may lack it): the
// module needs no provider, so it renders offline and must match what this test checked.
const terraform = findExecutable('terraform');

describe.skipIf(!atLeast(terraformVersion(terraform), 1, 5))(
  'cloud-init module rendered by terraform',
  () => {
    const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };

    function rootModule(dir: string, inputs: Record<string, string | boolean>): void {
      const lines = Object.entries(inputs).map(([k, v]) => `  ${k} = ${JSON.stringify(v)}`);
      writeFileSync(
        join(dir, 'main.tf'),
        [
          'module "cloud_init" {',
          `  source = ${JSON.stringify(MODULE_DIR)}`,
          ...lines,
          '}',
          'output "user_data" {',
          '  value = module.cloud_init.user_data',
          '}',
          '',
        ].join('\n'),
      );
      const init = run(terraform!, ['init', '-input=false', '-no-color'], { cwd: dir, env });
      expect(init.status, init.stderr).toBe(0);
    }

    const inputs = {
      rune_package_url: SAMPLE_SETTINGS.RUNE_PACKAGE_URL!,
      domain: SAMPLE_SETTINGS.RUNE_DOMAIN!,
      acme_email: SAMPLE_SETTINGS.RUNE_ACME_EMAIL!,
      public_ip: SAMPLE_SETTINGS.RUNE_PUBLIC_IP!,
    };

    it('renders exactly the document these tests check', () => {
      const dir = scratch('terraform-render');
      rootModule(dir, inputs);
      const apply = run(terraform!, ['apply', '-auto-approve', '-input=false', '-no-color'], {
        cwd: dir,
        env,
      });
      expect(apply.status, apply.stderr).toBe(0);
      const output = run(terraform!, ['output', '-raw', 'user_data'], { cwd: dir, env });
      expect(output.status, output.stderr).toBe(0);
      expect(output.stdout).toBe(userData);
    });

    it.each([
      ['a domain without acme_email', { ...inputs, acme_email: '' }, /acme_email/],
      ['no index and no index key', { ...inputs, run_index: false }, /index_public_key/],
      [
        'a quote in the package URL',
        { ...inputs, rune_package_url: "https://example.com/x'y.tar.gz" },
        /rune_package_url/,
      ],
    ] as const)('refuses %s at plan time', (name, values, message) => {
      const dir = scratch(`terraform-refuse-${name.replaceAll(' ', '-')}`);
      rootModule(dir, values);
      const plan = run(terraform!, ['plan', '-input=false', '-no-color'], { cwd: dir, env });
      expect(plan.status).not.toBe(0);
      expect(plan.stderr).toMatch(message);
    });
  },
);

import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
const strs = (v: unknown): string[] => arr(v).map(String);

// Instructions only: comments may name tools they explain away.
const dockerfile = read('Dockerfile')
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n');
const compose = obj(parse(read('deploy/container/compose.yml')));
const k8sFiles = readdirSync(join(root, 'deploy/kubernetes')).filter((f) => f.endsWith('.yaml'));
const k8s: Obj[] = k8sFiles.flatMap((f) =>
  parseAllDocuments(read(`deploy/kubernetes/${f}`)).map((d) => {
    expect(d.errors, f).toEqual([]);
    return obj(d.toJS());
  }),
);
const ofKind = (kind: string): Obj[] => k8s.filter((d) => d.kind === kind);
const podSpec = (d: Obj): Obj => obj(obj(obj(d.spec).template).spec);
const deployments = ofKind('Deployment');

/** rune argv (subcommand words, then options) from a container's command/args or a shell line. */
function runeInvocations(command: string[], args: string[]): string[][] {
  if (command.length === 0 || command[0] === 'node') return [args];
  return command
    .concat(args)
    .join(' ')
    .split(/&&|;|\|/)
    .map((part) => part.trim().split(/\s+/))
    .filter((words) => words.some((w) => w.endsWith('rune.js')))
    .map((words) => words.slice(words.findIndex((w) => w.endsWith('rune.js')) + 1));
}

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)].map((m) => ({
    image: m[1],
    name: m[2],
  }));
  const runtime = dockerfile.slice(dockerfile.search(/^FROM\s+\S+\s+AS\s+runtime/im));

  it('has a node:20-bookworm-slim build stage and a separate runtime stage', () => {
    expect(stages).toEqual([
      { image: 'node:20-bookworm-slim', name: 'build' },
      { image: 'node:20-bookworm-slim', name: 'runtime' },
    ]);
    expect(dockerfile).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(dockerfile).toMatch(/ONNXRUNTIME_NODE_INSTALL_CUDA=skip/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('installs nothing at runtime and adds back only tsx from the dev tools', () => {
    expect(runtime).not.toMatch(/\bnpm\b|\bnpx\b|\byarn\b/);
    const installs = [...dockerfile.matchAll(/npm install\b[^\n]*/g)].map((m) => m[0]);
    for (const line of installs) expect(line).toMatch(/"tsx@\$\{TSX_VERSION\}"/);
    expect(dockerfile).not.toMatch(/vitest|eslint|prettier|typescript@/);
  });

  it('runs as the non-root rune user with a healthcheck on /health/live', () => {
    expect(runtime).toMatch(/useradd[^\n]*--uid 10001/);
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('10001:10001');
    expect(runtime).toMatch(/^HEALTHCHECK[\s\S]*?CMD \["node"/m);
    expect(runtime).toMatch(/RUNE_HEALTH_URL=https:\/\/127\.0\.0\.1:50080\/health\/live/);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "apps\/cli\/bin\/rune\.js"\]/m);
    expect(runtime).toMatch(/\/var\/lib\/rune/);
  });
});

describe('compose', () => {
  const services = obj(compose.services);

  it('runs vault and index with healthchecks, volumes and the KEK as a secret file', () => {
    for (const name of ['vault', 'index']) {
      const svc = obj(services[name]);
      expect(strs(obj(svc.healthcheck).test).join(' '), name).toContain('/health/live');
      expect(strs(svc.volumes).length, name).toBeGreaterThan(0);
    }
    const vault = obj(services.vault);
    expect(strs(vault.secrets)).toContain('vault_kek');
    expect(strs(vault.command)).toEqual(expect.arrayContaining(['--kek-file', '/run/secrets/vault_kek']));
    expect(JSON.stringify(vault.environment)).not.toMatch(/KEK/i);
    expect(obj(obj(compose.secrets).vault_kek).file).toBe('./secrets/vault-kek.passphrase');
  });

  it('plants canaries: the Vault reaches the index by the CA that index-identity wrote before both', () => {
    const vault = strs(obj(services.vault).command);
    const caPath = vault[vault.indexOf('--index-ca') + 1];
    expect(vault[vault.indexOf('--index-url') + 1]).toBe('https://index:50090');
    expect(caPath).toBe('/var/lib/rune/trust/index-ca.crt');
    const identity = strs(obj(services['index-identity']).command).join(' ');
    expect(identity).toContain(`--ca-out ${caPath ?? ''}`);
    expect(identity).toContain('--tls-host index');
    // The index answers to the name the Vault uses, so its certificate covers it.
    expect(strs(obj(services.index).command).join(' ')).toContain('--tls-host index');
  });

  it('puts monitoring behind a profile that uses deploy/monitoring files', () => {
    for (const name of ['prometheus', 'grafana']) {
      const svc = obj(services[name]);
      expect(strs(svc.profiles)).toEqual(['monitoring']);
      expect(strs(svc.volumes).some((v) => v.startsWith('../monitoring/'))).toBe(true);
    }
  });
});

describe('kubernetes manifests', () => {
  it('has the namespace, both PVCs, both Services and a NetworkPolicy', () => {
    expect(ofKind('Namespace').map((d) => obj(d.metadata).name)).toEqual(['rune']);
    expect(ofKind('PersistentVolumeClaim').map((d) => obj(d.metadata).name)).toEqual(
      expect.arrayContaining(['rune-vault-data', 'rune-index-data']),
    );
    expect(ofKind('Service').map((d) => obj(d.metadata).name)).toEqual(
      expect.arrayContaining(['rune-vault', 'rune-index']),
    );
    const policies = ofKind('NetworkPolicy');
    expect(policies.length).toBeGreaterThan(0);
    const ingressPorts = policies.flatMap((p) =>
      arr(obj(p.spec).ingress).flatMap((r) => arr(obj(r).ports).map((port) => obj(port).port)),
    );
    expect(ingressPorts.sort()).toEqual([50080, 50090]);
  });

  it('gives every Deployment container probes, resources and a locked-down securityContext', () => {
    expect(deployments.map((d) => obj(d.metadata).name).sort()).toEqual(['rune-index', 'rune-vault']);
    for (const d of deployments) {
      const spec = podSpec(d);
      expect(obj(spec.securityContext).runAsNonRoot).toBe(true);
      for (const c of arr(spec.containers).map(obj)) {
        const ready = obj(obj(c.readinessProbe).httpGet);
        const live = obj(obj(c.livenessProbe).httpGet);
        expect([ready.path, ready.scheme]).toEqual(['/health/ready', 'HTTPS']);
        expect([live.path, live.scheme]).toEqual(['/health/live', 'HTTPS']);
        const resources = obj(c.resources);
        for (const k of ['requests', 'limits'])
          expect(Object.keys(obj(resources[k])).sort()).toEqual(['cpu', 'memory']);
        const sc = obj(c.securityContext);
        expect(sc.runAsNonRoot).toBe(true);
        expect(sc.readOnlyRootFilesystem).toBe(true);
        expect(strs(obj(sc.capabilities).drop)).toEqual(['ALL']);
      }
    }
    const vault = deployments.find((d) => obj(d.metadata).name === 'rune-vault')!;
    expect(obj(vault.spec).replicas).toBe(1);
    expect(obj(obj(vault.spec).strategy).type).toBe('Recreate');
  });

  it('mounts the KEK Secret as a 0400 file used through --kek-file, never through the environment', () => {
    const vault = podSpec(deployments.find((d) => obj(d.metadata).name === 'rune-vault')!);
    const secret = obj(
      arr(vault.volumes)
        .map(obj)
        .find((v) => obj(v.secret).secretName === 'rune-vault-kek')?.secret,
    );
    expect(secret.defaultMode).toBe(0o400);
    expect(strs(obj(arr(vault.containers)[0]).args)).toContain('--kek-file');
    expect(JSON.stringify(k8s)).not.toMatch(/"env(From)?":/);
    expect(JSON.stringify(k8s)).not.toMatch(/--kek-env/);
  });
});

describe('every rune command and option used exists in the CLI', () => {
  const invocations: string[][] = [];
  for (const svc of Object.values(obj(compose.services)).map(obj)) {
    if (svc.image !== 'rune:dev') continue;
    invocations.push(...runeInvocations(strs(svc.entrypoint), strs(svc.command)));
  }
  for (const d of [...deployments, ...ofKind('Job')]) {
    const spec = podSpec(d);
    for (const c of [...arr(spec.initContainers), ...arr(spec.containers)].map(obj)) {
      invocations.push(...runeInvocations(strs(c.command), strs(c.args)));
    }
  }
  const byCommand = new Map<string, Set<string>>();
  for (const argv of invocations) {
    const key = argv.slice(0, 2).join(' ');
    const flags = byCommand.get(key) ?? new Set<string>();
    for (const a of argv) if (a.startsWith('--')) flags.add(a);
    byCommand.set(key, flags);
  }

  it('finds the invocations', () => {
    expect([...byCommand.keys()].sort()).toEqual(['index serve', 'index show-key', 'vault serve']);
  });

  for (const [command, flags] of byCommand) {
    it(`rune ${command} knows ${[...flags].join(' ')}`, () => {
      const result = spawnSync(process.execPath, ['apps/cli/bin/rune.js', ...command.split(' '), '--help'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status, result.stderr).toBe(0);
      for (const flag of flags) expect(result.stdout, flag).toMatch(new RegExp(`${flag}\\b`));
    });
  }
});

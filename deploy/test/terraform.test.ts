import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngressRule, WORLD_SOURCES, ingressRules, reachesTcpPort } from './ingress.js';
import {
  CLOUDS,
  type Cloud,
  MODULE_DIR,
  TERRAFORM_DIR,
  type TerraformConfig,
  expressionOf,
  loadTerraformDir,
  nestedBlocks,
} from './terraform-config.js';
import { atLeast, findExecutable, run, terraformVersion } from './tools.js';

const ADMIN_CIDR = '${var.admin_cidr}';

/** What each cloud's root module must contain besides the shared outputs and variables. */
const EXPECTED: Record<
  Cloud,
  { network: readonly string[]; staticIp: string; instance: string; sizeVariable: [string, string] }
> = {
  aws: {
    network: [
      'aws_vpc',
      'aws_subnet',
      'aws_internet_gateway',
      'aws_route_table',
      'aws_route_table_association',
      'aws_security_group',
    ],
    staticIp: 'aws_eip',
    instance: 'aws_instance',
    sizeVariable: ['instance_type', 't3.medium'],
  },
  gcp: {
    network: ['google_compute_network', 'google_compute_subnetwork', 'google_compute_firewall'],
    staticIp: 'google_compute_address',
    instance: 'google_compute_instance',
    sizeVariable: ['machine_type', 'e2-medium'],
  },
  oci: {
    network: [
      'oci_core_vcn',
      'oci_core_subnet',
      'oci_core_internet_gateway',
      'oci_core_route_table',
      'oci_core_security_list',
    ],
    staticIp: 'oci_core_public_ip',
    instance: 'oci_core_instance',
    sizeVariable: ['instance_shape', 'VM.Standard.A1.Flex'],
  },
};

const REQUIRED_OUTPUTS = ['vault_url', 'vault_token', 'vault_public_ip', 'ssh_command'] as const;

const configs = new Map<Cloud, TerraformConfig>();
let moduleConfig: TerraformConfig;

beforeAll(async () => {
  for (const cloud of CLOUDS) configs.set(cloud, await loadTerraformDir(join(TERRAFORM_DIR, cloud)));
  moduleConfig = await loadTerraformDir(MODULE_DIR);
});

function config(cloud: Cloud): TerraformConfig {
  const found = configs.get(cloud);
  if (found === undefined) throw new Error(`${cloud} was not loaded`);
  return found;
}

function describeRule(rule: IngressRule): string {
  const what =
    rule.ports === undefined
      ? rule.icmp === undefined
        ? 'every port'
        : `icmp ${JSON.stringify(rule.icmp)}`
      : `${rule.ports.from}-${rule.ports.to}`;
  return `${rule.where}: ${rule.protocol} ${what} from ${rule.source}`;
}

/** HTTPS on 443, or ICMP "fragmentation needed" (type 3 code 4) for path MTU discovery. */
function isAllowedFromWorld(rule: IngressRule): boolean {
  if (rule.protocol === 'tcp') return rule.ports?.from === 443 && rule.ports.to === 443;
  if (rule.protocol === 'icmp') return rule.icmp?.type === 3 && rule.icmp.code === 4;
  return false;
}

describe.each(CLOUDS)('Terraform for %s', (cloud) => {
  it('parses every .tf file and has versions, variables, main and outputs', () => {
    expect(config(cloud).files).toEqual(
      expect.arrayContaining(['main.tf', 'outputs.tf', 'variables.tf', 'versions.tf']),
    );
  });

  it('outputs vault_url, vault_token, vault_public_ip and ssh_command, each described, the token sensitive', () => {
    const { outputs } = config(cloud);
    for (const name of REQUIRED_OUTPUTS) {
      const output = outputs.get(name);
      expect(output, `output ${name}`).toBeDefined();
      expect(output?.description, `output ${name} description`).toEqual(expect.stringMatching(/\S/));
    }
    expect(outputs.get('vault_token')?.sensitive).toBe(true);
    for (const [name, output] of outputs) {
      if (name !== 'vault_token')
        expect(output.sensitive, `only vault_token is sensitive (${name})`).not.toBe(true);
    }
  });

  it('delivers the first admin token over SSH, never through the Terraform state', () => {
    const value = String(config(cloud).outputs.get('vault_token')?.value);
    expect(value).toMatch(/^ssh ubuntu@\$\{local\.public_ip\} sudo rune-bootstrap-token$/);
    // Nothing reads from the VM into the state: no external data source, no provisioner.
    for (const key of config(cloud).data.keys()) expect(key).not.toMatch(/^external\./);
    for (const [key, resource] of config(cloud).resources)
      expect(resource, key).not.toHaveProperty('provisioner');
  });

  it('describes and types every variable, and gives admin_cidr and ssh_public_key no default', () => {
    const { variables } = config(cloud);
    for (const [name, variable] of variables) {
      expect(variable.description, `variable ${name} description`).toEqual(expect.stringMatching(/\S{3}/));
      expect(variable.type, `variable ${name} type`).toEqual(expect.stringMatching(/^\$\{.+\}$/));
    }
    for (const name of ['admin_cidr', 'ssh_public_key', 'rune_package_url']) {
      expect(variables.get(name), `variable ${name}`).toBeDefined();
      expect(variables.get(name), `variable ${name} has no default`).not.toHaveProperty('default');
    }
    const adminCidr = variables.get('admin_cidr');
    expect(nestedBlocks(adminCidr ?? {}, 'validation')).toHaveLength(1);
  });

  it('opens only TCP 443 (and ICMP fragmentation-needed) to the world, on IPv4 and IPv6', () => {
    const rules = ingressRules(cloud, config(cloud));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      // A source Terraform computes could be anything: only literals and the admin variable are allowed.
      expect(
        WORLD_SOURCES.has(rule.source) || rule.source === ADMIN_CIDR || !rule.source.includes('${'),
        describeRule(rule),
      ).toBe(true);
      if (WORLD_SOURCES.has(rule.source)) expect(isAllowedFromWorld(rule), describeRule(rule)).toBe(true);
    }
    expect(
      rules.some((r) => WORLD_SOURCES.has(r.source) && r.protocol === 'tcp' && r.ports?.from === 443),
    ).toBe(true);
  });

  it('lets SSH in only from var.admin_cidr', () => {
    const rules = ingressRules(cloud, config(cloud));
    const ssh = rules.filter((rule) => reachesTcpPort(rule, 22));
    expect(ssh.length, 'an SSH rule exists').toBeGreaterThan(0);
    for (const rule of ssh) {
      expect(rule.source, describeRule(rule)).toBe(ADMIN_CIDR);
      expect(rule.ports, describeRule(rule)).toEqual({ from: 22, to: 22 });
    }
    for (const rule of rules.filter((r) => r.source === ADMIN_CIDR)) {
      expect(
        reachesTcpPort(rule, 22) && rule.ports?.to === 22,
        `admin CIDR opens SSH only: ${describeRule(rule)}`,
      ).toBe(true);
    }
  });

  it('creates the network, a static IP and one VM sized by a defaulted variable', () => {
    const { resources, variables } = config(cloud);
    const types = new Set([...resources.keys()].map((key) => key.split('.')[0]));
    for (const type of [...EXPECTED[cloud].network, EXPECTED[cloud].staticIp]) {
      expect(types.has(type), `a ${type} resource`).toBe(true);
    }
    expect(
      [...resources.keys()].filter((key) => key.startsWith(`${EXPECTED[cloud].instance}.`)),
    ).toHaveLength(1);
    const [sizeName, sizeDefault] = EXPECTED[cloud].sizeVariable;
    expect(variables.get(sizeName)?.default).toBe(sizeDefault);
    const publicIp = String(config(cloud).outputs.get('vault_public_ip')?.value);
    expect(publicIp).toBe('${local.public_ip}');
  });

  it('boots the VM with the shared cloud-init module and never replaces it for a new image or user data', () => {
    const { modules, resources } = config(cloud);
    expect(modules.get('cloud_init')?.source).toBe('../modules/rune-cloud-init');
    const [instance] = [...resources.entries()].filter(([key]) =>
      key.startsWith(`${EXPECTED[cloud].instance}.`),
    );
    const text = JSON.stringify(instance?.[1]);
    expect(text).toMatch(/\$\{module\.cloud_init\.user_data(_base64gzip)?\}/);
    const lifecycle = nestedBlocks(instance?.[1] ?? {}, 'lifecycle')[0];
    const ignored = (lifecycle?.ignore_changes as unknown[] | undefined)?.map(String).join(' ') ?? '';
    expect(ignored, 'the image is ignored').toMatch(/ami|image|source_id/);
    expect(ignored, 'the user data is ignored').toMatch(/user_data|user-data/);
  });

  it('passes every module input the module declares, and only those', () => {
    const inputs = Object.keys(config(cloud).modules.get('cloud_init') ?? {}).filter((k) => k !== 'source');
    for (const input of inputs) expect(moduleConfig.variables.has(input), `module input ${input}`).toBe(true);
    for (const [name, variable] of moduleConfig.variables) {
      if (!('default' in variable)) expect(inputs, `required module input ${name}`).toContain(name);
    }
  });
});

describe('cloud-init Terraform module', () => {
  it('describes and types every variable and output', () => {
    for (const [name, variable] of moduleConfig.variables) {
      expect(variable.description, `variable ${name}`).toEqual(expect.stringMatching(/\S{3}/));
      expect(variable.type, `variable ${name} type`).toEqual(expect.stringMatching(/^\$\{.+\}$/));
    }
    expect([...moduleConfig.outputs.keys()].sort()).toEqual(['user_data', 'user_data_base64gzip']);
    for (const output of moduleConfig.outputs.values()) {
      expect(output.description).toEqual(expect.stringMatching(/\S/));
      expect(nestedBlocks(output, 'precondition')).toHaveLength(1);
    }
  });

  it('uses no provider and creates no resource', () => {
    expect(moduleConfig.resources.size).toBe(0);
    expect(moduleConfig.data.size).toBe(0);
  });
});

// The real Terraform evaluates the admin_cidr validation when it is installed (it is not a Debian or
// npm package, so CI machines may lack it): no provider is needed to evaluate an expression.
const terraform = findExecutable('terraform');
const tfVersion = terraformVersion(terraform);

describe.skipIf(!atLeast(tfVersion, 1, 5))('admin_cidr validation, evaluated by terraform console', () => {
  let workDir: string;
  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'rune-tf-console-'));
  });
  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  const cases: [string, boolean][] = [
    ['0.0.0.0/0', false],
    ['::/0', false],
    ['10.0.0.0/4', false],
    ['203.0.113.7', false],
    ['not-a-cidr', false],
    ['', false],
    ['203.0.113.0/24', true],
    ['198.51.100.7/32', true],
    ['10.0.0.0/8', true],
  ];

  it.each(CLOUDS)('%s accepts narrow IPv4 CIDRs and refuses the world', (cloud) => {
    const condition = expressionOf(
      nestedBlocks(config(cloud).variables.get('admin_cidr') ?? {}, 'validation')[0]?.condition,
    );
    expect(condition).toBeDefined();
    const expressions = cases.map(([cidr]) => condition!.replaceAll('var.admin_cidr', JSON.stringify(cidr)));
    // The console prints only the last expression's value, so all cases go into one JSON list.
    const result = run(terraform!, ['console'], {
      cwd: workDir,
      input: `jsonencode([${expressions.join(', ')}])\n`,
      env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(JSON.parse(result.stdout) as string)).toEqual(cases.map(([, ok]) => ok));
  });
});

// `terraform test` on the AWS configuration with a mocked provider (aws/tests/plan.tftest.hcl): it
// needs the provider binary, which only a local mirror can give offline (TF_PLUGIN_DIR, or
// /opt/tf-plugins where this machine has one); elsewhere the structural tests above stand alone.
const pluginDir = process.env.TF_PLUGIN_DIR ?? '/opt/tf-plugins';
const hasAwsProvider = existsSync(join(pluginDir, 'registry.terraform.io', 'hashicorp', 'aws'));

// mock_provider needs Terraform 1.7.
describe.skipIf(!atLeast(tfVersion, 1, 7) || !hasAwsProvider)(
  'AWS configuration under terraform test',
  () => {
    let workDir: string;
    beforeAll(() => {
      workDir = mkdtempSync(join(tmpdir(), 'rune-tf-test-'));
      // A copy, so that no .terraform directory or lock file lands in the repository.
      cpSync(join(TERRAFORM_DIR, 'aws'), join(workDir, 'aws'), { recursive: true });
      cpSync(join(TERRAFORM_DIR, 'modules'), join(workDir, 'modules'), { recursive: true });
    });
    afterAll(() => {
      rmSync(workDir, { recursive: true, force: true });
    });

    it('plans and applies against the mocked provider, and refuses SSH from the world', () => {
      const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
      const cwd = join(workDir, 'aws');
      const init = run(
        terraform!,
        ['init', '-input=false', '-backend=false', `-plugin-dir=${pluginDir}`, '-no-color'],
        {
          cwd,
          env,
        },
      );
      expect(init.status, init.stderr).toBe(0);
      const test = run(terraform!, ['test', '-no-color'], { cwd, env, timeoutMs: 120_000 });
      expect(test.status, `${test.stdout}\n${test.stderr}`).toBe(0);
      expect(test.stdout).toMatch(/Success! 3 passed, 0 failed\./);
    }, 180_000);
  },
);

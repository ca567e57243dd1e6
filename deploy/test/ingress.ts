import {
  type Block,
  type Cloud,
  type TerraformConfig,
  nestedBlocks,
  resourcesOfType,
} from './terraform-config.js';

/** One inbound allowance, whatever the cloud's vocabulary: a source and what it may reach. */
export interface IngressRule {
  /** "type.name" of the resource that declares it. */
  readonly where: string;
  /** A literal CIDR, or the expression as written (e.g. "${var.admin_cidr}"). */
  readonly source: string;
  /** tcp, udp, icmp, icmpv6, all, or the protocol as written. */
  readonly protocol: string;
  /** TCP/UDP port range; undefined means every port. */
  readonly ports?: { readonly from: number; readonly to: number };
  /** ICMP type and code; undefined means any. */
  readonly icmp?: { readonly type?: number; readonly code?: number };
}

export const WORLD_SOURCES: ReadonlySet<string> = new Set(['0.0.0.0/0', '::/0']);

const PROTOCOL_NAMES: Readonly<Record<string, string>> = {
  '-1': 'all',
  all: 'all',
  '1': 'icmp',
  icmp: 'icmp',
  '6': 'tcp',
  tcp: 'tcp',
  '17': 'udp',
  udp: 'udp',
  '58': 'icmpv6',
  icmpv6: 'icmpv6',
};

/** A scalar attribute as text; a block or list where a scalar belongs is a test failure. */
function scalar(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new Error(`expected a scalar, got ${JSON.stringify(value)}`);
}

function protocolName(value: unknown): string {
  const text = scalar(value).toLowerCase();
  return PROTOCOL_NAMES[text] ?? text;
}

function numberOrUndefined(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${JSON.stringify(value)}`);
  return n;
}

function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map(scalar);
  return [scalar(value)];
}

/** AWS uses from_port/to_port for TCP/UDP ports and for ICMP type/code; -1 means any. */
function awsRule(
  where: string,
  source: string,
  protocolValue: unknown,
  from: unknown,
  to: unknown,
): IngressRule {
  const protocol = protocolName(protocolValue);
  const fromN = numberOrUndefined(from);
  const toN = numberOrUndefined(to);
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    return {
      where,
      source,
      protocol,
      icmp: {
        ...(fromN === undefined || fromN === -1 ? {} : { type: fromN }),
        ...(toN === undefined || toN === -1 ? {} : { code: toN }),
      },
    };
  }
  if (protocol === 'all' || fromN === undefined || toN === undefined || fromN === -1) {
    return { where, source, protocol };
  }
  return { where, source, protocol, ports: { from: fromN, to: toN } };
}

function awsRules(config: TerraformConfig): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const [name, block] of resourcesOfType(config, 'aws_vpc_security_group_ingress_rule')) {
    const where = `aws_vpc_security_group_ingress_rule.${name}`;
    const sources = [
      block.cidr_ipv4,
      block.cidr_ipv6,
      block.referenced_security_group_id,
      block.prefix_list_id,
    ];
    for (const source of sources) {
      if (source !== undefined)
        rules.push(awsRule(where, scalar(source), block.ip_protocol, block.from_port, block.to_port));
    }
  }
  const inline = (where: string, rule: Block): void => {
    for (const source of [...stringList(rule.cidr_blocks), ...stringList(rule.ipv6_cidr_blocks)]) {
      rules.push(awsRule(where, source, rule.protocol, rule.from_port, rule.to_port));
    }
  };
  for (const [name, block] of resourcesOfType(config, 'aws_security_group')) {
    for (const rule of nestedBlocks(block, 'ingress')) inline(`aws_security_group.${name}`, rule);
  }
  for (const [name, block] of resourcesOfType(config, 'aws_security_group_rule')) {
    if (block.type === 'ingress') inline(`aws_security_group_rule.${name}`, block);
  }
  return rules;
}

function gcpPorts(spec: string): { from: number; to: number } {
  const [from, to] = spec.split('-');
  return { from: Number(from), to: Number(to ?? from) };
}

function gcpRules(config: TerraformConfig): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const [name, block] of resourcesOfType(config, 'google_compute_firewall')) {
    const direction = block.direction ?? 'INGRESS';
    if (direction !== 'INGRESS') continue;
    const where = `google_compute_firewall.${name}`;
    const hasOtherSource = block.source_tags !== undefined || block.source_service_accounts !== undefined;
    // Without source_ranges, source_tags or service accounts GCP applies the rule to 0.0.0.0/0.
    const sources =
      block.source_ranges === undefined
        ? hasOtherSource
          ? []
          : ['0.0.0.0/0']
        : stringList(block.source_ranges);
    for (const allow of nestedBlocks(block, 'allow')) {
      const protocol = protocolName(allow.protocol);
      const portSpecs = stringList(allow.ports);
      for (const source of sources) {
        if (portSpecs.length === 0) rules.push({ where, source, protocol });
        for (const spec of portSpecs) rules.push({ where, source, protocol, ports: gcpPorts(spec) });
      }
    }
  }
  return rules;
}

function ociRule(where: string, rule: Block): IngressRule {
  const source = scalar(rule.source);
  const protocol = protocolName(rule.protocol);
  if (protocol === 'icmp') {
    const options = nestedBlocks(rule, 'icmp_options')[0];
    const type = numberOrUndefined(options?.type);
    const code = numberOrUndefined(options?.code);
    return {
      where,
      source,
      protocol,
      icmp: { ...(type === undefined ? {} : { type }), ...(code === undefined ? {} : { code }) },
    };
  }
  const options = nestedBlocks(rule, protocol === 'udp' ? 'udp_options' : 'tcp_options')[0];
  // Options without destination_port_range fields (min/max) mean every port.
  const from = numberOrUndefined(options?.min);
  const to = numberOrUndefined(options?.max);
  if (protocol === 'all' || from === undefined || to === undefined) return { where, source, protocol };
  return { where, source, protocol, ports: { from, to } };
}

function ociRules(config: TerraformConfig): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const [name, block] of resourcesOfType(config, 'oci_core_security_list')) {
    for (const rule of nestedBlocks(block, 'ingress_security_rules')) {
      rules.push(ociRule(`oci_core_security_list.${name}`, rule));
    }
  }
  for (const [name, block] of resourcesOfType(config, 'oci_core_network_security_group_security_rule')) {
    if (block.direction === 'INGRESS')
      rules.push(ociRule(`oci_core_network_security_group_security_rule.${name}`, block));
  }
  return rules;
}

export function ingressRules(cloud: Cloud, config: TerraformConfig): IngressRule[] {
  switch (cloud) {
    case 'aws':
      return awsRules(config);
    case 'gcp':
      return gcpRules(config);
    case 'oci':
      return ociRules(config);
  }
}

/** True when the rule lets `port` in over TCP. */
export function reachesTcpPort(rule: IngressRule, port: number): boolean {
  if (rule.protocol !== 'tcp' && rule.protocol !== 'all') return false;
  return rule.ports === undefined || (rule.ports.from <= port && port <= rule.ports.to);
}

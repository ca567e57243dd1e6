import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MODULE_DIR, asRecord } from './terraform-config.js';

export const TEMPLATE_PATH = join(MODULE_DIR, 'cloud-init.yaml.tftpl');
export const FILES_DIR = join(MODULE_DIR, 'files');

/** Values for the module's settings, as main.tf's `settings` map names them. */
export type Settings = Readonly<Record<string, string>>;

export const SAMPLE_SETTINGS: Settings = {
  RUNE_PACKAGE_URL: 'https://example.com/rune.tar.gz',
  RUNE_PACKAGE_SHA256: '',
  RUNE_DOMAIN: 'vault.example.com',
  RUNE_ACME_EMAIL: 'admin@example.com',
  RUNE_ACME_SERVER: 'https://acme-v02.api.letsencrypt.org/directory',
  RUNE_PUBLIC_IP: '203.0.113.7',
  RUNE_PUBLIC_IP_LOOKUP_URL: 'https://checkip.amazonaws.com',
  RUNE_RUN_INDEX: 'true',
  RUNE_INDEX_PUBLIC_KEY: '',
  RUNE_INDEX_URL: '',
  RUNE_HOST_FIREWALL: 'ufw',
};

/** Terraform's indent(): every line but the first gets `spaces` spaces, blank ones included. */
export function indent(spaces: number, text: string): string {
  return text.replaceAll('\n', `\n${' '.repeat(spaces)}`);
}

/** main.tf's deploy_env: one KEY='value' line per setting, keys sorted. */
export function renderDeployEnv(settings: Settings): string {
  return Object.keys(settings)
    .sort()
    .map((key) => `${key}='${settings[key] ?? ''}'\n`)
    .join('');
}

export function moduleFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(FILES_DIR).sort())
    files.set(name, readFileSync(join(FILES_DIR, name), 'utf8'));
  return files;
}

const PLACEHOLDER = /\$\{indent\(6, (?:deploy_env|files\["([^"]+)"\])\)\}/g;

/** The file names the template interpolates, in order. */
export function templateFileReferences(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].flatMap((m) => (m[1] === undefined ? [] : [m[1]]));
}

/**
 * Renders the template as Terraform's templatefile() does for the only interpolations it holds;
 * anything else left in it (another interpolation or a directive) is an error.
 */
export function renderUserData(settings: Settings = SAMPLE_SETTINGS): string {
  const template = readFileSync(TEMPLATE_PATH, 'utf8');
  const files = moduleFiles();
  const rendered = template.replace(PLACEHOLDER, (_match, name: string | undefined) => {
    if (name === undefined) return indent(6, renderDeployEnv(settings));
    const content = files.get(name);
    if (content === undefined) throw new Error(`the template names files["${name}"], which files/ lacks`);
    return indent(6, content);
  });
  const leftover = /[$%]\{/.exec(template.replace(PLACEHOLDER, ''));
  if (leftover !== null) throw new Error(`unsupported template syntax at offset ${leftover.index}`);
  return rendered;
}

export interface WriteFile {
  readonly path: string;
  readonly permissions: string;
  readonly owner: string;
  readonly content: string;
}

export interface CloudConfig {
  readonly writeFiles: readonly WriteFile[];
  /** Each runcmd entry as the argument list cloud-init runs (a string entry runs under sh -c). */
  readonly runcmd: readonly (readonly string[] | string)[];
  readonly document: Readonly<Record<string, unknown>>;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string: ${JSON.stringify(value)}`);
  return value;
}

export function parseCloudConfig(yamlText: string): CloudConfig {
  const document = asRecord(parse(yamlText) as unknown, 'cloud-config');
  const writeFiles = (Array.isArray(document.write_files) ? document.write_files : []).map(
    (item: unknown, i) => {
      const entry = asRecord(item, `write_files[${i}]`);
      if ('encoding' in entry) throw new Error(`write_files[${i}] is encoded; the module writes plain text`);
      return {
        path: String(entry.path),
        permissions: String(entry.permissions),
        owner: String(entry.owner),
        content: String(entry.content),
      };
    },
  );
  const runcmd = (Array.isArray(document.runcmd) ? document.runcmd : []).map((item: unknown) =>
    Array.isArray(item)
      ? item.map((arg, i) => text(arg, `runcmd argument ${i}`))
      : text(item, 'runcmd entry'),
  );
  return { writeFiles, runcmd, document };
}

/** The runcmd entries as one POSIX shell script, each argument quoted as cloud-init passes it. */
export function runcmdScript(runcmd: CloudConfig['runcmd']): string {
  const quote = (arg: string): string => `'${arg.replaceAll("'", `'"'"'`)}'`;
  const lines = runcmd.map((entry) => (typeof entry === 'string' ? entry : entry.map(quote).join(' ')));
  return `#!/bin/sh\nset -e\n${lines.join('\n')}\n`;
}

/** name=value pairs of a systemd unit, in order, continuation lines joined. */
export function unitDirectives(unit: string): [string, string][] {
  const directives: [string, string][] = [];
  for (const line of unit.replaceAll(/\\\n\s*/g, ' ').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) directives.push([match[1], match[2]]);
  }
  return directives;
}

export function unitValues(unit: string, name: string): string[] {
  return unitDirectives(unit)
    .filter(([key]) => key === name)
    .map(([, value]) => value);
}

import { type TargetOs, configLocationText } from './os-target.js';

export interface ReadmeInput {
  readonly memberName: string;
  readonly os: TargetOs;
  readonly vaultUrl: string;
  readonly isInvitation: boolean;
  readonly hasTarball: boolean;
}

/** The package's README.md: what to do, what can go wrong and how to fix it, and the warning. */
export function packageReadme(input: ReadmeInput): string {
  const isWindows = input.os === 'windows';
  const run = isWindows ? 'powershell -ExecutionPolicy Bypass -File .\\setup.ps1' : 'sh ./setup.sh';
  const credential = input.isInvitation
    ? 'a one-time invitation code: the first `rune configure` exchanges it for your own token, after which it is worthless. It expires after 72 hours by default.'
    : 'your personal member token: anyone holding it can read and write your team memory as you.';
  return `# Rune member package for ${input.memberName}

Rune is your team's encrypted long-term memory for AI coding agents. This package connects this
machine to your team's Vault (${input.vaultUrl}).

> **Security.** This package contains ${credential} Share it only over an encrypted channel
> (an end-to-end encrypted messenger, or an encrypted disk), never by plain e-mail or a public
> chat. Delete the zip and the unzipped folder once setup has finished. If it leaked, tell your
> admin: \`rune team rotate\` (or \`rune team remove\`) makes it useless.

## What you need

- ${isWindows ? 'Windows 10 or 11 with PowerShell 5.1 or 7' : 'macOS or Linux with a POSIX shell'}
- Node.js 20 or newer and npm (https://nodejs.org), unless Rune is installed already
- Network access to the Vault and the index
- Optionally Claude Code, Gemini CLI or Codex; setup registers Rune with each one installed

## Setup (about 5 minutes)

1. Unzip the package and open a terminal in its folder.
2. Run:

   \`\`\`
   ${run}
   \`\`\`

The script:

1. installs Rune with npm (${input.hasTarball ? 'from the rune-*.tgz in this package' : 'from the npm registry'}; set
   \`RUNE_TARBALL\` to install a tarball, or \`RUNE_BIN\` to use a rune you already have),
2. runs \`rune configure --from vault-config.json\`, which tests the connection (DNS, TCP, TLS,
   token, clock, pinned key, index) before it saves anything, and saves your config to
   ${configLocationText(input.os)} (set \`RUNE_CONFIG\` to choose another place), readable by you
   only,
3. runs \`rune status\` to check everything end to end,
4. registers the MCP server \`rune mcp\` with Claude Code (\`claude mcp add\`), Gemini CLI
   (\`gemini mcp add\`) and Codex (\`codex mcp add\`), whichever is installed.

Then try it: \`rune recall "what did we decide about the database?"\`, or ask your agent to recall.

## Troubleshooting

Every failure prints a code and a fix. Run \`rune status\` at any time; \`rune status --json\` gives
the same as JSON.

| code | meaning | fix |
|---|---|---|
| DNS_FAILED | the Vault's host name does not resolve | check your network, VPN or DNS |
| TCP_REFUSED / TCP_UNREACHABLE | nothing answers on the Vault's port, or a firewall drops it | is the Vault up? are you on the VPN? |
| TLS_UNTRUSTED | the certificate does not verify | the package's caCert must match your team CA: ask your admin for a new package |
| TOKEN_REFUSED / INVITATION_REFUSED | the token or invitation was refused (used, expired, revoked) | ask your admin for a new package |
| CLOCK_SKEW | this machine's clock is off | turn on network time (${isWindows ? '`w32tm /resync`' : 'macOS: System Settings > Date & Time; Linux: `sudo timedatectl set-ntp true`'}) |
| KEY_PIN_MISMATCH | the Vault's key is not the pinned one | stop and tell your admin: something may be intercepting |
| EMBEDDER_MISMATCH | the index uses another embedder | ask your admin |
| npm install fails | no permission for global installs | use a Node version manager (nvm${isWindows ? '-windows' : ''}, fnm) or set npm's prefix |
`;
}

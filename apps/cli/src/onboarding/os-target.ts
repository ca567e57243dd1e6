export const TARGET_OS = ['macos', 'linux', 'windows'] as const;
export type TargetOs = (typeof TARGET_OS)[number];

export function isTargetOs(value: string): value is TargetOs {
  return (TARGET_OS as readonly string[]).includes(value);
}

/** Where `rune configure` saves the config on that OS, for the package README. */
export function configLocationText(os: TargetOs): string {
  return os === 'windows'
    ? '%USERPROFILE%\\.config\\rune\\vault-config.json'
    : '$XDG_CONFIG_HOME/rune/vault-config.json, else ~/.config/rune/vault-config.json';
}

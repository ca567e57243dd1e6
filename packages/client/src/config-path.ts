import { posix, win32 } from 'node:path';

export const CONFIG_FILE_NAME = 'vault-config.json';

export interface ConfigPathContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `process.platform` of the machine the path is for. */
  readonly platform: string;
  /** `os.homedir()`; the fallback when USERPROFILE is unset on Windows. */
  readonly homedir: string;
}

/**
 * Where the member config lives (DESIGN §8): `RUNE_CONFIG` wins; on Windows
 * `%USERPROFILE%\.config\rune\vault-config.json`; elsewhere `$XDG_CONFIG_HOME/rune/…` or
 * `~/.config/rune/…`. Paths are built with the target platform's rules, so tests cover both.
 */
export function defaultConfigPath(context: ConfigPathContext): string {
  const { env, platform, homedir } = context;
  const explicit = env.RUNE_CONFIG;
  if (explicit !== undefined && explicit !== '') return explicit;
  if (platform === 'win32') {
    const profile = env.USERPROFILE;
    const base = profile !== undefined && profile !== '' ? profile : homedir;
    return win32.join(base, '.config', 'rune', CONFIG_FILE_NAME);
  }
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, 'rune', CONFIG_FILE_NAME);
  return posix.join(homedir, '.config', 'rune', CONFIG_FILE_NAME);
}

/** A path as written into JSON: forward slashes on every platform, so configs and reports are portable. */
export function toJsonPath(path: string): string {
  return path.replaceAll('\\', '/');
}

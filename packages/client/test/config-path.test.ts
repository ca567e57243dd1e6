import { describe, expect, it } from 'vitest';
import { defaultConfigPath, defaultStateDir } from '../src/index.js';

describe('defaultConfigPath', () => {
  it('prefers RUNE_CONFIG on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32']) {
      expect(
        defaultConfigPath({
          env: { RUNE_CONFIG: '/etc/rune/me.json', XDG_CONFIG_HOME: '/x' },
          platform,
          homedir: '/h',
        }),
      ).toBe('/etc/rune/me.json');
    }
  });

  it('uses $XDG_CONFIG_HOME/rune on POSIX when it is absolute', () => {
    expect(
      defaultConfigPath({
        env: { XDG_CONFIG_HOME: '/home/ada/.cfg' },
        platform: 'linux',
        homedir: '/home/ada',
      }),
    ).toBe('/home/ada/.cfg/rune/vault-config.json');
  });

  it('falls back to ~/.config/rune on POSIX when XDG_CONFIG_HOME is unset, empty or relative', () => {
    for (const env of [
      {},
      { XDG_CONFIG_HOME: '' },
      { XDG_CONFIG_HOME: 'relative/cfg' },
      { RUNE_CONFIG: '' },
    ]) {
      expect(defaultConfigPath({ env, platform: 'darwin', homedir: '/Users/ada' })).toBe(
        '/Users/ada/.config/rune/vault-config.json',
      );
    }
  });

  it('uses %USERPROFILE%\\.config\\rune on Windows, with backslashes, ignoring XDG_CONFIG_HOME', () => {
    expect(
      defaultConfigPath({
        env: { USERPROFILE: 'C:\\Users\\Ada', XDG_CONFIG_HOME: '/x' },
        platform: 'win32',
        homedir: 'D:\\elsewhere',
      }),
    ).toBe('C:\\Users\\Ada\\.config\\rune\\vault-config.json');
  });

  it('normalises forward slashes in USERPROFILE and falls back to the home directory on Windows', () => {
    expect(defaultConfigPath({ env: { USERPROFILE: 'C:/Users/Ada' }, platform: 'win32', homedir: 'x' })).toBe(
      'C:\\Users\\Ada\\.config\\rune\\vault-config.json',
    );
    expect(defaultConfigPath({ env: {}, platform: 'win32', homedir: 'C:\\Users\\Bob' })).toBe(
      'C:\\Users\\Bob\\.config\\rune\\vault-config.json',
    );
  });
});

describe('defaultStateDir', () => {
  it('prefers RUNE_STATE_DIR, then XDG_STATE_HOME (absolute only), then ~/.local/state/rune', () => {
    expect(
      defaultStateDir({
        env: { RUNE_STATE_DIR: '/s', XDG_STATE_HOME: '/x' },
        platform: 'linux',
        homedir: '/h',
      }),
    ).toBe('/s');
    expect(defaultStateDir({ env: { XDG_STATE_HOME: '/x' }, platform: 'linux', homedir: '/h' })).toBe(
      '/x/rune',
    );
    expect(defaultStateDir({ env: { XDG_STATE_HOME: 'rel' }, platform: 'darwin', homedir: '/h' })).toBe(
      '/h/.local/state/rune',
    );
  });

  it('uses %LOCALAPPDATA%\\rune on Windows, else the profile AppData\\Local', () => {
    expect(
      defaultStateDir({
        env: { LOCALAPPDATA: 'C:\\Users\\Ada\\AppData\\Local' },
        platform: 'win32',
        homedir: 'x',
      }),
    ).toBe('C:\\Users\\Ada\\AppData\\Local\\rune');
    expect(defaultStateDir({ env: {}, platform: 'win32', homedir: 'C:\\Users\\Bob' })).toBe(
      'C:\\Users\\Bob\\AppData\\Local\\rune',
    );
  });
});

import { createHash } from 'node:crypto';
import {
  RuneClient,
  isRuneClientError,
  readMemberConfig,
  type ConnectOptions,
  type MemberConfig,
} from '@rune/client';
import { MemoryError, MemoryErrorCode } from './errors.js';
import { RoleCap } from './role-cap.js';

export interface SessionOptions {
  readonly configPath: string;
  /** HTTP mode: the caller's bearer token replaces the config's (the config supplies URLs and pins). */
  readonly token?: string;
  readonly connect?: ConnectOptions;
}

const CONFIG_CODES = new Set(['CONFIG_NOT_FOUND', 'CONFIG_CORRUPT', 'CONFIG_INVALID']);

/**
 * One member's view of the team memory: their config, a connected client and what the server
 * learnt about them (role cap). The config is re-read until it is valid, so running
 * `rune configure` fixes a server that started unconfigured without a restart.
 */
export class MemberSession {
  readonly configPath: string;
  readonly roleCap = new RoleCap();
  readonly #token: string | undefined;
  readonly #connectOptions: ConnectOptions;
  #config: MemberConfig | undefined;
  #client: Promise<RuneClient> | undefined;

  constructor(options: SessionOptions) {
    this.configPath = options.configPath;
    this.#token = options.token;
    this.#connectOptions = options.connect ?? {};
  }

  /** The member config, or NOT_CONFIGURED with the fix. */
  async config(): Promise<MemberConfig> {
    if (this.#config !== undefined) return this.#config;
    let config: MemberConfig;
    try {
      config = await readMemberConfig(this.configPath);
    } catch (err: unknown) {
      if (isRuneClientError(err) && CONFIG_CODES.has(err.code)) {
        throw new MemoryError(
          MemoryErrorCode.NOT_CONFIGURED,
          `Rune is not configured: ${err.message} [${err.code}]`,
          err.hint ?? 'run `rune configure`, or set RUNE_CONFIG to your member config',
          { cause: err },
        );
      }
      throw err;
    }
    this.#config = this.#token === undefined ? config : { ...config, token: this.#token };
    return this.#config;
  }

  /** Connected client; a failed connection is retried on the next call. */
  async client(): Promise<RuneClient> {
    const config = await this.config();
    this.#client ??= RuneClient.connect(config, this.#connectOptions);
    try {
      return await this.#client;
    } catch (err: unknown) {
      this.#client = undefined;
      throw err;
    }
  }

  /** Whose history this is: a digest of the token (never the token), stable for the member. */
  async owner(): Promise<string> {
    const config = await this.config();
    return createHash('sha256').update(config.token).digest('hex').slice(0, 16);
  }

  close(): void {
    void this.#client?.then(
      (c) => {
        c.close();
      },
      () => undefined,
    );
    this.#client = undefined;
  }
}

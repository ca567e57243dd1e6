import { MODEL_DTYPES } from '@rune/embed';
import { idSchema } from '@rune/protocol';
import { z } from 'zod';

/** Version of the member config layout; a reader refuses any other. */
export const MEMBER_CONFIG_VERSION = 1;
/** Largest config file read; a real one is a few KiB (a CA certificate included). */
export const MAX_CONFIG_BYTES = 256 * 1024;

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * SECURITY: the Vault URL carries the member's bearer token, so plaintext HTTP is accepted only to
 * a loopback address (a local `rune up` stack), as the services themselves allow (DESIGN §5).
 */
const serviceUrlSchema = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL such as https://vault.example.com' });
    return;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    ctx.addIssue({
      code: 'custom',
      message: 'must use https:// (http:// is allowed only to a loopback address)',
    });
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials, a query or a fragment' });
  }
});

/** What builds an index's embedder: the offline ones need no settings, the model ones do. */
export const EMBEDDER_KINDS = ['bm25', 'lexical', 'transformers', 'openai'] as const;
export type EmbedderKind = (typeof EMBEDDER_KINDS)[number];

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;

export const memberConfigSchema = z.strictObject({
  version: z.literal(MEMBER_CONFIG_VERSION),
  vaultUrl: serviceUrlSchema,
  indexUrl: serviceUrlSchema,
  indexId: idSchema,
  // The message never echoes the value: it is a secret.
  token: z
    .string()
    .regex(/^rune_[A-Za-z0-9_-]{43}$/, 'must be a member token (rune_ followed by 43 characters)'),
  /** SHA-256 of the Vault's serialised public key: the pin that stops key substitution (DESIGN §1). */
  publicKeyHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (SHA-256)'),
  /** keyId of the Vault's Ed25519 signing key, pinned with the public key. */
  vaultKeyId: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits'),
  /** The index's raw Ed25519 receipt/result key, base64url; without it receipts are checked but not verified. */
  indexVerifyKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a raw Ed25519 public key in unpadded base64url (43 characters)')
    .exactOptional(),
  /** PEM of the private CA the services' certificates chain to; replaces the system roots when given. */
  caCert: z
    .string()
    .max(64 * 1024)
    .regex(PEM_CERT, 'must be a PEM certificate')
    .exactOptional(),
  memberId: z.string().min(1).max(128).exactOptional(),
  name: z.string().min(1).max(256).exactOptional(),
  /** The embedder the index was created with; a client with another one is refused. */
  embedder: z
    .strictObject({
      id: z.string().min(1).max(128),
      dim: z.int().min(1).max(4096),
      /** How to build it; inferred from `id` for the offline embedders (bm25, lexical). */
      kind: z.enum(EMBEDDER_KINDS).exactOptional(),
      /** transformers: Hugging Face model id; openai: the endpoint's model name. */
      model: z.string().min(1).max(200).exactOptional(),
      /** transformers: folder of provisioned and downloaded models (default ~/.cache/rune/models). */
      modelDir: z.string().min(1).max(4096).exactOptional(),
      /** transformers: weight variant (default q8); part of the embedder id. */
      dtype: z.enum(MODEL_DTYPES).exactOptional(),
      /** transformers: download a missing model once into modelDir (RUNE_OFFLINE=1 still forbids it). */
      allowDownload: z.boolean().exactOptional(),
      queryPrefix: z.string().max(200).exactOptional(),
      documentPrefix: z.string().max(200).exactOptional(),
      /** openai: server origin, e.g. http://localhost:11434 (Ollama) or https://api.openai.com. */
      baseUrl: serviceUrlSchema.exactOptional(),
      /** openai: name of the environment variable holding the API key. */
      apiKeyEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')
        .exactOptional(),
      /** SECURITY: a raw key never lives in the config file (it is copied into member packages). */
      apiKey: z
        .never({
          error: 'must not be in the config: put the key in an environment variable named by apiKeyEnv',
        })
        .exactOptional(),
      /** openai: per-request deadline, ms. */
      timeoutMs: z.int().min(1).max(600_000).exactOptional(),
    })
    .superRefine((embedder, ctx) => {
      const need = (field: 'model' | 'baseUrl') => {
        if (embedder[field] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `is required for kind ${embedder.kind ?? ''}`,
          });
        }
      };
      if (embedder.kind === 'transformers') need('model');
      if (embedder.kind === 'openai') {
        need('model');
        need('baseUrl');
      }
    })
    .exactOptional(),
});

export type MemberConfig = z.infer<typeof memberConfigSchema>;
/** The index's embedder and how this member builds it. */
export type EmbedderSettings = NonNullable<MemberConfig['embedder']>;

/** Human-readable list of what is wrong, by field (values are never echoed: the token is secret). */
export function describeConfigIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

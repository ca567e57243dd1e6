import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { MemoryContext } from '../memory/context.js';
import { MemoryErrorCode, describeFailure, type Failure } from '../memory/errors.js';

/** One MCP tool: its schema (listed and enforced), when to use it, and what it does. */
export interface ToolDefinition<S extends z.ZodType> {
  /** ≤ 48 chars of [a-z0-9_-] (portable across hosts). */
  readonly name: string;
  readonly title: string;
  /** Tells the model WHEN to use the tool, not only what it does. */
  readonly description: string;
  readonly annotations: ToolAnnotations;
  /** What every call is checked against before `run`. */
  readonly inputSchema: S;
  /**
   * What hosts are shown, when stricter than `inputSchema` (batch_capture lists full items but
   * checks each itself, so one bad item does not sink the batch). Defaults to `inputSchema`.
   */
  readonly listedSchema?: z.ZodType;
  run(input: z.output<S>, ctx: MemoryContext): Promise<CallToolResult>;
}

/** A tool ready for the server: listing and a call that never throws. */
export interface RegisteredTool {
  readonly name: string;
  readonly listing: Tool;
  call(args: unknown, ctx: MemoryContext): Promise<CallToolResult>;
}

export function defineTool<S extends z.ZodType>(def: ToolDefinition<S>): RegisteredTool {
  return {
    name: def.name,
    listing: {
      name: def.name,
      title: def.title,
      description: def.description,
      inputSchema: portableSchema(def.listedSchema ?? def.inputSchema),
      annotations: { title: def.title, ...def.annotations },
    },
    async call(args, ctx) {
      const parsed = def.inputSchema.safeParse(args ?? {});
      if (!parsed.success) return failureResult(invalidInput(def.name, parsed.error));
      try {
        return await def.run(parsed.data, ctx);
      } catch (err: unknown) {
        const failure = describeFailure(err);
        if (failure.code === MemoryErrorCode.INTERNAL) {
          ctx.log(`${def.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        } else {
          ctx.log(`${def.name}: ${failure.code}`);
        }
        return failureResult(failure);
      }
    },
  };
}

/**
 * JSON Schema the hosts accept: draft-07, no `$schema` (Codex strips it, Gemini's OpenAPI subset
 * rejects unknown keywords), no nullable type arrays (the inspector's --strict flags those).
 */
export function portableSchema(schema: z.ZodType): Tool['inputSchema'] {
  const json = z.toJSONSchema(schema, { target: 'draft-07', io: 'input' }) as Record<string, unknown>;
  delete json.$schema;
  return { ...json, type: 'object' };
}

export function invalidInput(tool: string, error: z.ZodError): Failure {
  const detail = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`)
    .join('; ');
  return {
    code: MemoryErrorCode.INVALID_INPUT,
    message: `invalid arguments for ${tool}: ${detail}`,
    hint: `fix the named fields and call ${tool} again; the tool's input schema lists what each accepts`,
  };
}

/** An isError result: code, message and hint as text (never a bare value) and as structured content. */
export function failureResult(failure: Failure): CallToolResult {
  return {
    isError: true,
    content: [
      { type: 'text', text: `Error ${failure.code}: ${failure.message}\nHow to fix: ${failure.hint}` },
    ],
    structuredContent: { error: { ...failure } },
  };
}

export function okResult(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

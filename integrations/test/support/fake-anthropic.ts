import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Claude Code's tool for waiting on MCP servers that are still connecting. */
export const WAIT_TOOL = 'WaitForMcpServers';
/** It answers "still connecting, try again" after a while; a slow machine needs several tries. */
const MAX_WAITS = 20;

/** What the fake model saw of one Messages API request. */
export interface SeenRequest {
  readonly model: string;
  readonly system: string;
  readonly toolNames: readonly string[];
  /** Every text block of every message, user and assistant, joined. */
  readonly messagesText: string;
  /** The whole request body (tool descriptions list the subagents). */
  readonly raw: string;
}

export interface SeenToolResult {
  readonly toolName: string;
  readonly text: string;
  readonly isError: boolean;
}

export interface FakeAnthropic {
  readonly url: string;
  readonly port: number;
  readonly requests: readonly SeenRequest[];
  readonly toolResults: readonly SeenToolResult[];
  close(): Promise<void>;
}

export interface FakeAnthropicScript {
  /** The first offered tool whose name matches is called once. */
  readonly tool: RegExp;
  readonly input: Readonly<Record<string, unknown>>;
}

interface ContentBlock {
  type?: string;
  text?: string;
  content?: string | { type?: string; text?: string }[];
  is_error?: boolean;
}
interface MessagesBody {
  model?: string;
  stream?: boolean;
  max_tokens?: number;
  system?: string | { text?: string }[];
  tools?: { name?: string }[];
  messages?: { role?: string; content?: string | ContentBlock[] }[];
}

/**
 * A scripted stand-in for the Anthropic Messages API on 127.0.0.1 (for ANTHROPIC_BASE_URL): it
 * asks for one tool call (waiting for MCP servers first when the tool is not offered yet), then answers
 * "TOOL SAID: <the tool's text>" — so a real Claude Code run
 * proves which tools it offered, which it was allowed to call, and what came back.
 */
export async function startFakeAnthropic(script: FakeAnthropicScript): Promise<FakeAnthropic> {
  const requests: SeenRequest[] = [];
  const toolResults: SeenToolResult[] = [];
  let lastCalled = '';
  let hasCalledTool = false;
  let waits = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answer(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });

  function answer(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = req.url ?? '';
    if (!url.startsWith('/v1/messages') || url.includes('count_tokens')) {
      res.writeHead(url.includes('count_tokens') ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{"input_tokens":10}');
      return;
    }
    const body = JSON.parse(raw) as MessagesBody;
    const messages = body.messages ?? [];
    const toolNames = (body.tools ?? []).map((t) => t.name ?? '');
    requests.push({
      model: body.model ?? '',
      system:
        typeof body.system === 'string'
          ? body.system
          : (body.system ?? []).map((s) => s.text ?? '').join('\n'),
      toolNames,
      messagesText: messages.map((m) => textOf(m.content)).join('\n'),
      raw,
    });
    const last = messages.at(-1)?.content;
    const result = Array.isArray(last) ? last.find((c) => c.type === 'tool_result') : undefined;
    const tool = toolNames.find((name) => script.tool.test(name));
    const isMainTurn = (body.max_tokens ?? 0) > 1;
    let block: Record<string, unknown> = { type: 'text', text: 'no matching tool offered' };
    if (result !== undefined) {
      const text = textOf(result.content);
      toolResults.push({ toolName: lastCalled, text, isError: result.is_error === true });
      block = { type: 'text', text: `TOOL SAID: ${text}${result.is_error === true ? ' (is_error)' : ''}` };
    }
    // Like a real model: call the tool once it is offered; while its server is still connecting, wait for it.
    const wantsTool = !hasCalledTool && isMainTurn && (result === undefined || lastCalled === WAIT_TOOL);
    if (wantsTool && tool !== undefined) {
      hasCalledTool = true;
      lastCalled = tool;
      block = { type: 'tool_use', id: `toolu_${requests.length}`, name: tool, input: script.input };
    } else if (wantsTool && waits < MAX_WAITS && toolNames.includes(WAIT_TOOL)) {
      waits += 1;
      lastCalled = WAIT_TOOL;
      block = { type: 'tool_use', id: `toolu_${requests.length}`, name: WAIT_TOOL, input: {} };
    }
    const stop = block.type === 'tool_use' ? 'tool_use' : 'end_turn';
    const message = {
      id: `msg_${requests.length}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [] as unknown[],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 1 },
    };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...message, content: [block], stop_reason: stop }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = (type: string, data: Record<string, unknown>) => {
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    };
    const isText = block.type === 'text';
    event('message_start', { message });
    event('content_block_start', {
      index: 0,
      content_block: isText ? { type: 'text', text: '' } : { ...block, input: {} },
    });
    event('content_block_delta', {
      index: 0,
      delta: isText
        ? { type: 'text_delta', text: block.text }
        : { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
    });
    event('content_block_stop', { index: 0 });
    event('message_delta', {
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: 5 },
    });
    event('message_stop', {});
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    toolResults,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function textOf(content: ContentBlock['content'] | ContentBlock[] | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((c: ContentBlock) => (typeof c.text === 'string' ? c.text : textOf(c.content))).join('');
}

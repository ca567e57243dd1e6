import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenGeminiRequest {
  readonly functionNames: readonly string[];
  /** The whole request body (system instruction, context files, prompt). */
  readonly raw: string;
}

export interface SeenFunctionResponse {
  readonly name: string;
  readonly response: unknown;
}

export interface FakeGemini {
  readonly url: string;
  readonly port: number;
  readonly requests: readonly SeenGeminiRequest[];
  readonly functionResponses: readonly SeenFunctionResponse[];
  close(): Promise<void>;
}

interface Part {
  text?: string;
  functionResponse?: { name?: string; response?: unknown };
}
interface GenerateBody {
  tools?: { functionDeclarations?: { name: string }[] }[];
  contents?: { parts?: Part[] }[];
  generationConfig?: { responseMimeType?: string };
}

/**
 * A scripted stand-in for the Gemini API on 127.0.0.1 (for GOOGLE_GEMINI_BASE_URL): calls the first
 * offered function whose name matches once, then answers with the functionResponse it got back.
 */
export async function startFakeGemini(script: {
  readonly tool: RegExp;
  readonly args: Readonly<Record<string, unknown>>;
}): Promise<FakeGemini> {
  const requests: SeenGeminiRequest[] = [];
  const functionResponses: SeenFunctionResponse[] = [];
  let hasCalled = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const raw = Buffer.concat(chunks).toString('utf8');
      if (url.includes(':countTokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"totalTokens":10}');
        return;
      }
      const body = (raw === '' ? {} : JSON.parse(raw)) as GenerateBody;
      const names = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []).map((d) => d.name);
      requests.push({ functionNames: names, raw });
      const response = (body.contents ?? []).at(-1)?.parts?.find((p) => p.functionResponse !== undefined);
      const fn = names.find((n) => script.tool.test(n));
      let parts: unknown[];
      if (response?.functionResponse !== undefined) {
        const { name = '', response: value } = response.functionResponse;
        functionResponses.push({ name, response: value });
        parts = [{ text: `TOOL SAID: ${JSON.stringify(value)}` }];
      } else if (fn !== undefined && !hasCalled) {
        hasCalled = true;
        parts = [{ functionCall: { name: fn, args: script.args } }];
      } else if (body.generationConfig?.responseMimeType === 'application/json') {
        parts = [{ text: '{}' }];
      } else {
        parts = [{ text: 'ok' }];
      }
      const chunk = {
        candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
        modelVersion: 'stub',
      };
      if (url.includes('alt=sse')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify(chunk)}\n\n`);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(chunk));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    functionResponses,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

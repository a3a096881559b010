// The model-facing shapes the orchestrator speaks, independent of any SDK.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text exactly as the model produced it (may be invalid: callers validate). */
  arguments: string;
}

export interface ChatMessage {
  role: Role;
  content: string | null;
  /** Assistant messages that call tools. */
  toolCalls?: ToolCall[];
  /** Tool messages: which call this answers. */
  toolCallId?: string;
  name?: string;
}

/** A JSON Schema object (draft 2020-12 subset as OpenAI accepts it). */
export type JsonSchema = Record<string, unknown>;

export interface ToolSpec {
  name: string;
  description: string;
  parameters: JsonSchema;
}

export type ModelRole = 'chat' | 'fast' | 'embed';

/** One configured model on one OpenAI-compatible server. */
export interface ModelConfig {
  /** The model name the server knows (e.g. "gpt-4o-mini", "qwen2.5-coder:7b"). */
  model: string;
  baseURL: string;
  /** Name of the environment variable holding the key; never the key itself. */
  apiKeyEnv?: string;
  contextWindow: number;
  maxOutputTokens: number;
  /** Whether the server supports native tool calls / response_format json_schema. */
  supportsTools?: boolean;
  supportsJsonSchema?: boolean;
  /** Inactivity limit: the longest wait for a non-streamed reply and between streamed chunks. */
  timeoutMs?: number;
  /** The longest wait for the first byte of a streamed reply (and for the body once headers came). */
  firstByteTimeoutMs?: number;
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonSchema };

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  temperature?: number;
  maxTokens?: number;
  responseFormat?: ResponseFormat;
  signal?: AbortSignal;
  /** Streaming: called with each text delta as it arrives. */
  onToken?: (delta: string) => void;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  content: string;
  toolCalls: ToolCall[];
  usage: Usage;
  /** The model that actually answered (after any fallback). */
  model: string;
  finishReason: string;
}

/** A token count, and whether it is exact or an estimate. */
export interface TokenCount {
  tokens: number;
  exact: boolean;
}

/** Counts tokens for one model family; an estimate where no tokenizer is known. Every method
 * costs time linear in the text it reads. */
export interface TokenCounter {
  count(text: string): number;
  /** count(text), saying whether it is exact: very long texts are estimated even by exact counters. */
  measure(text: string): TokenCount;
  /** Length of the longest prefix of `text` counting at most `maxTokens`; reads the text only as
   * far as the budget reaches, so cutting a huge text to a small budget costs little. */
  fit(text: string, maxTokens: number): number;
  /** Cost of a whole message list, including per-message overhead. */
  countMessages(messages: ChatMessage[]): number;
  /** true when `count` is exact for the model (texts of ordinary length), false for an estimate. */
  readonly exact: boolean;
}

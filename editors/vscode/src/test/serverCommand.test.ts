import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { doctorArgs, installCommand, isTandemCheckout, resolveLaunch, serverMissing } from '../serverCommand';

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
    assert.deepEqual(resolveLaunch({}, `/nonexistent${path.delimiter}${dir}`, []), { command: exe, args: ['serve'] });
    assert.deepEqual(resolveLaunch({}, '/nonexistent', []), { command: 'tandem-lsp', args: ['serve'] });
    // pipx and uv install into ~/.local/bin, which an editor started from the desktop may not have on PATH.
    assert.deepEqual(resolveLaunch({}, '/nonexistent', [dir]), { command: exe, args: ['serve'] });
    assert.equal(serverMissing({}, resolveLaunch({}, '/nonexistent', [])), true);
    assert.equal(serverMissing({}, resolveLaunch({}, '/nonexistent', [dir])), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a configured executable is missing only when its file is', () => {
  assert.equal(serverMissing({ path: '/nonexistent/tandem-lsp' }, resolveLaunch({ path: '/nonexistent/tandem-lsp' })), true);
  assert.equal(serverMissing({ pythonPath: process.execPath }, resolveLaunch({ pythonPath: process.execPath })), false);
  // A bare interpreter name is the operating system's to find.
  assert.equal(serverMissing({ pythonPath: 'python3' }, resolveLaunch({ pythonPath: 'python3' })), false);
});

test('other subcommands replace serve and its extra arguments', () => {
  const settings = { pythonPath: '/venv/bin/python', args: ['--tcp', '127.0.0.1:2087'] };
  assert.deepEqual(resolveLaunch(settings, '', [], ['doctor', '--model', 'm.gguf']), {
    command: '/venv/bin/python',
    args: ['-m', 'tandem_lsp', 'doctor', '--model', 'm.gguf'],
  });
});

test('the doctor gets the model settings the server would get', () => {
  assert.deepEqual(doctorArgs({}), ['doctor']);
  assert.deepEqual(
    doctorArgs({
      completionModel: { path: '/m/coder.gguf', contextSize: 8192, gpuLayers: 0, endpoint: '' },
      reasoningModel: { path: '/m/r1.gguf' },
      completion: { maxTokens: 64 },
    }),
    ['doctor', '--model', '/m/coder.gguf', '--gpu-layers', '0', '--ctx', '8192', '--reasoning-model', '/m/r1.gguf'],
  );
});

test('the install command is the README\'s, with the tool this machine has', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-tools-'));
  const tool = (name: string) => fs.writeFileSync(path.join(dir, name), '#!/bin/sh\n', { mode: 0o755 });
  try {
    assert.match(installCommand(dir, []), /^python3? -m pip install --user '\.\/\[local\]'$|^py -m pip/);
    tool('uv');
    assert.equal(installCommand(dir, []), "uv tool install --force './[local]'");
    tool('pipx');
    assert.equal(installCommand('/nonexistent', [dir]), "pipx install --force './[local]'");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a tandem-lsp clone is recognised by its pyproject.toml', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-clone-'));
  try {
    assert.equal(isTandemCheckout(dir), false);
    fs.writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "other"\n');
    assert.equal(isTandemCheckout(dir), false);
    fs.writeFileSync(path.join(dir, 'pyproject.toml'), '[project]\nname = "tandem-lsp"\nversion = "0.1.0"\n');
    assert.equal(isTandemCheckout(dir), true);
    // This repository is one.
    assert.equal(isTandemCheckout(path.resolve(__dirname, '../../../..')), true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Talks to the real `tandem-lsp serve` over stdio, as the extension does, and
// asks for an inline completion. Skips when tandem-lsp is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import {
  createProtocolConnection,
  ExecuteCommandRequest,
  InitializeRequest,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  ProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { ModelRow, modelPicks } from '../models';
import { findOnPath, resolveLaunch } from '../serverCommand';

// TANDEM_LSP points at a specific executable; otherwise PATH decides.
const executable = process.env.TANDEM_LSP || findOnPath('tandem-lsp', process.env.PATH ?? '');
const skip = executable ? false : 'tandem-lsp is not on PATH (set TANDEM_LSP to its path to run this test)';

const SOURCE = 'def add(a, b):\n    """Return the sum of a and b."""\n    return ';
const URI = 'file:///tmp/tandem-stdio-test/example.py';

test('inline completion over stdio from tandem-lsp serve', { skip, timeout: 120_000 }, async (t) => {
  const launch = resolveLaunch({ path: executable as string });
  const child = spawn(launch.command, launch.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const connection: ProtocolConnection = createProtocolConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const statuses: string[] = [];
  connection.onNotification('tandem/status', (params: { state: string }) => {
    statuses.push(params.state);
  });
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onRequest('client/registerCapability', () => null);
  connection.onRequest('workspace/configuration', (params: { items: unknown[] }) => params.items.map(() => ({})));
  connection.listen();
  try {
    const init = await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      workspaceFolders: null,
      capabilities: {
        textDocument: { inlineCompletion: { dynamicRegistration: false } },
        window: { workDoneProgress: true },
      },
      // One thread: on a busy 2-core machine llama.cpp's threads otherwise wait on each other.
      initializationOptions: { completionModel: { threads: 1 }, completion: { maxTokens: 16 }, index: { enabled: false } },
    });
    assert.ok(init.capabilities.inlineCompletionProvider, 'server announces inline completion');
    await connection.sendNotification('initialized', {});
    await connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri: URI, languageId: 'python', version: 1, text: SOURCE },
    });
    const lines = SOURCE.split('\n');
    const position = { line: lines.length - 1, character: lines[lines.length - 1].length };

    // The first answer may come before the model has loaded; ask again until one arrives.
    let insertText = '';
    const deadline = Date.now() + 90_000;
    while (!insertText && Date.now() < deadline) {
      const result = await connection.sendRequest(InlineCompletionRequest.type, {
        textDocument: { uri: URI },
        position,
        context: { triggerKind: InlineCompletionTriggerKind.Invoked },
      });
      const items = Array.isArray(result) ? result : result?.items ?? [];
      insertText = items.map((item) => (typeof item.insertText === 'string' ? item.insertText : item.insertText.value)).find(Boolean) ?? '';
      if (!insertText) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(insertText.trim().length > 0, `expected a suggestion; statuses ${statuses.join(',')}; server stderr:\n${stderr.slice(-2000)}`);

    t.diagnostic(`suggestion: ${JSON.stringify(insertText)}`);
    const stats = await connection.sendRequest(ExecuteCommandRequest.type, { command: 'tandem.stats', arguments: [] });
    assert.ok(stats && typeof stats === 'object', 'tandem.stats answers an object');
    const requests = (stats as { completion?: { requests?: number } }).completion?.requests ?? 0;
    assert.ok(requests >= 1, `the request was counted (requests=${requests})`);

    // The status bar's toggle: off means no suggestions and a `disabled` status.
    const off = await connection.sendRequest(ExecuteCommandRequest.type, { command: 'tandem.toggle', arguments: [{ enabled: false }] });
    assert.deepEqual(off, { enabled: false });
    const none = await connection.sendRequest(InlineCompletionRequest.type, {
      textDocument: { uri: URI },
      position,
      context: { triggerKind: InlineCompletionTriggerKind.Invoked },
    });
    assert.equal((Array.isArray(none) ? none : none?.items ?? []).length, 0, 'no suggestion while switched off');
    assert.equal(statuses[statuses.length - 1], 'disabled');

    // What *Select Model* and *Run Doctor* ask, and the picker's entries made from the answer.
    const listed = await connection.sendRequest<{ models: ModelRow[] }>('tandem/models', {});
    assert.ok(Array.isArray(listed.models), 'tandem/models answers a list');
    const picks = modelPicks(listed.models, '');
    assert.equal(picks.length, listed.models.filter((row) => !row.error).length);
    if (listed.models.some((row) => row.source === 'embedded')) {
      assert.ok(picks.some((pick) => pick.path === '' && pick.label.startsWith('$(check)')), 'the embedded default is the one in use');
    }
    const doctor = await connection.sendRequest<{ ok: boolean; report: string }>('tandem/doctor', {});
    assert.equal(typeof doctor.ok, 'boolean');
    assert.match(doctor.report, /\d+ failed, \d+ warnings\s*$/);
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
  } finally {
    connection.dispose();
    child.kill();
  }
});


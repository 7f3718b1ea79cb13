// User commands. Each one forwards to a server command (workspace/executeCommand)
// and shows the answer; the server does the work.
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient, WorkspaceEdit as LspWorkspaceEdit } from 'vscode-languageclient/node';
import { renderResult, summarizeStats } from './render';
import { StatusBar } from './statusBar';

type Args = Record<string, unknown>;

export function registerCommands(
  client: LanguageClient,
  statusBar: StatusBar,
  output: vscode.LogOutputChannel,
): vscode.Disposable[] {
  const run = async (command: string, args: unknown[], title: string, progress = true): Promise<unknown> => {
    if (!client.isRunning()) {
      void vscode.window.showWarningMessage('Tandem: the server is not running.');
      return undefined;
    }
    const send = (token?: vscode.CancellationToken) =>
      client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token);
    try {
      return progress
        ? await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `Tandem: ${title}…`, cancellable: true },
            (_progress, token) => send(token),
          )
        : await send();
    } catch (error) {
      if (error instanceof Error && /cancel/i.test(error.message)) {
        return undefined; // the user cancelled
      }
      output.error(`${command} failed: ${String(error)}`);
      void vscode.window.showErrorMessage(`Tandem: ${title} failed: ${errorMessage(error)}`);
      return undefined;
    }
  };

  const target = (withSelection: boolean): Args | undefined => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showWarningMessage('Tandem: open a file first.');
      return undefined;
    }
    const args: Args = { uri: editor.document.uri.toString() };
    if (withSelection && !editor.selection.isEmpty) {
      args.range = client.code2ProtocolConverter.asRange(editor.selection);
    }
    return args;
  };

  const review = async (title: string, withSelection: boolean, deep: boolean) => {
    const args = target(withSelection);
    if (!args) return;
    if (deep) args.deep = true;
    const result = await run('tandem.review', [args], title);
    if (result === undefined) return;
    await showMarkdown(renderResult(title, result));
    const count = (result as { findings?: unknown } | null)?.findings;
    if (typeof count === 'number') {
      void vscode.window.showInformationMessage(`Tandem: ${count} finding${count === 1 ? '' : 's'} (see Problems; quick fixes in the light bulb).`);
    }
  };

  return [
    vscode.commands.registerCommand('tandem.reviewFile', () => review('Review', false, false)),
    vscode.commands.registerCommand('tandem.reviewSelection', () => review('Review of selection', true, false)),
    vscode.commands.registerCommand('tandem.deepReview', () => review('Deep review', true, true)),
    vscode.commands.registerCommand('tandem.explainSelection', async () => {
      const args = target(true);
      if (!args) return;
      if (!args.range) {
        const line = vscode.window.activeTextEditor!.document.lineAt(vscode.window.activeTextEditor!.selection.active.line);
        args.range = client.code2ProtocolConverter.asRange(line.range);
      }
      const result = await run('tandem.explain', [args], 'Explain');
      if (result !== undefined) await showMarkdown(renderResult('Explanation', result));
    }),
    vscode.commands.registerCommand('tandem.debugError', async () => {
      const args = target(true) ?? {};
      const selected = vscode.window.activeTextEditor?.document.getText(vscode.window.activeTextEditor.selection) ?? '';
      const errorText = await vscode.window.showInputBox({
        title: 'Tandem: debug an error',
        prompt: 'Paste the error message or traceback (the reasoning model explains it against your code)',
        value: selected.includes('Error') ? selected : '',
        ignoreFocusOut: true,
      });
      if (!errorText) return;
      const result = await run('tandem.debug', [{ ...args, errorText }], 'Debug');
      if (result === undefined) return;
      await showMarkdown(renderResult('Debugging', result));
      const edit = (result as { edit?: unknown } | null)?.edit;
      if (edit) {
        const choice = await vscode.window.showInformationMessage('Tandem: apply the proposed fix?', 'Apply');
        if (choice === 'Apply') {
          const applied = await vscode.workspace.applyEdit(await client.protocol2CodeConverter.asWorkspaceEdit(edit as LspWorkspaceEdit));
          if (!applied) void vscode.window.showWarningMessage('Tandem: the fix no longer applies (the file changed).');
        }
      }
    }),
    vscode.commands.registerCommand('tandem.showStats', async () => {
      if (!client.isRunning()) {
        void vscode.window.showWarningMessage('Tandem: the server is not running.');
        return;
      }
      try {
        const stats = await client.sendRequest('tandem/stats', {});
        output.info(`stats ${JSON.stringify(stats)}`);
        void vscode.window.showInformationMessage(summarizeStats(stats));
        await showMarkdown(renderResult('Tandem stats', '```json\n' + JSON.stringify(stats, null, 2) + '\n```'));
      } catch (error) {
        void vscode.window.showErrorMessage(`Tandem: stats failed: ${errorMessage(error)}`);
      }
    }),
    vscode.commands.registerCommand('tandem.toggleCompletion', async () => {
      const result = (await run('tandem.toggle', [{}], 'toggle', false)) as { enabled?: boolean } | undefined;
      if (typeof result?.enabled === 'boolean') {
        statusBar.update(
          result.enabled
            ? { state: 'ready', message: 'Inline completion on.' }
            : { state: 'disabled', message: 'Inline completion off.' },
        );
      }
    }),
    vscode.commands.registerCommand('tandem.restartServer', async () => {
      await client.restart();
    }),
  ];
}

async function showMarkdown(content: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

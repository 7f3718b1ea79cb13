// User commands. Most forward to a server command (workspace/executeCommand) or a custom
// request (tandem/models, tandem/doctor) and show the answer; the server does the work.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient, WorkspaceEdit as LspWorkspaceEdit } from 'vscode-languageclient/node';
import { installServer, offerInstall } from './install';
import { ModelPick, ModelRow, modelPicks } from './models';
import { renderResult, summarizeStats } from './render';
import { doctorArgs, resolveLaunch, ServerLaunchSettings } from './serverCommand';
import { StatusBar } from './statusBar';

type Args = Record<string, unknown>;

/** What the commands need to know besides the client. */
export interface CommandContext {
  statusBar: StatusBar;
  output: vscode.LogOutputChannel;
  launchSettings: ServerLaunchSettings;
  /** The settings object sent to the server. */
  serverSettings: () => Record<string, unknown>;
}

const MODEL_SETTING = 'completionModel.path';
// The command-line doctor loads each model for a timed probe: give it time.
const DOCTOR_TIMEOUT_MS = 300_000;

export function registerCommands(client: LanguageClient, context: CommandContext): vscode.Disposable[] {
  const { statusBar, output } = context;
  const doctorOutput = vscode.window.createOutputChannel('Tandem Doctor');
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

  const selectModel = async () => {
    if (!client.isRunning()) {
      void vscode.window.showWarningMessage('Tandem: the server is not running, so it cannot list models.');
      return;
    }
    let rows: ModelRow[];
    try {
      const answer = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Tandem: looking for GGUF models' },
        () => client.sendRequest<{ models?: ModelRow[] }>('tandem/models', {}),
      );
      rows = answer?.models ?? [];
    } catch (error) {
      void vscode.window.showErrorMessage(`Tandem: listing models failed: ${errorMessage(error)}`);
      return;
    }
    for (const row of rows.filter((r) => r.error)) {
      output.warn(`model ${row.path} left out: ${row.error}`);
    }
    const config = vscode.workspace.getConfiguration('tandem');
    type Item = vscode.QuickPickItem & { pick?: ModelPick; browse?: true };
    const items: Item[] = modelPicks(rows, config.get<string>(MODEL_SETTING, '')).map((pick) => ({ ...pick, pick }));
    items.push(
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: '$(folder-opened) Choose a GGUF file…', browse: true },
    );
    const choice = await vscode.window.showQuickPick(items, {
      title: 'Tandem: completion model',
      placeHolder: items.length > 2 ? 'GGUF models found on this machine (FIM models first)' : 'No GGUF models found; choose a file',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    let path = choice?.pick?.path;
    if (choice?.browse) {
      const files = await vscode.window.showOpenDialog({
        title: 'Tandem: completion model',
        filters: { 'GGUF models': ['gguf'] },
        canSelectMany: false,
      });
      path = files?.[0]?.fsPath;
    }
    if (path === undefined) {
      return;
    }
    // Write where the setting is in force now, so the choice is not shadowed.
    const inspected = config.inspect<string>(MODEL_SETTING);
    const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await config.update(MODEL_SETTING, path || undefined, target);
    void vscode.window.showInformationMessage(`Tandem: completion model ${path ? `set to ${path}` : 'back to the embedded default'}.`);
  };

  const doctorFromCli = (): Promise<string | undefined> => {
    const launch = resolveLaunch(context.launchSettings, undefined, undefined, doctorArgs(context.serverSettings()));
    return new Promise((resolve) => {
      execFile(launch.command, launch.args, { timeout: DOCTOR_TIMEOUT_MS }, (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          void offerInstall(`"${launch.command}" was not found, so the doctor cannot run.`);
          resolve(undefined);
          return;
        }
        // The doctor exits with 1 when a check failed: its report is still the answer.
        resolve(stdout || `${launch.command} ${launch.args.join(' ')} failed: ${stderr || String(error)}`);
      });
    });
  };

  const runDoctor = async () => {
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Tandem: running the doctor…' },
      async () => {
        if (!client.isRunning()) {
          return doctorFromCli(); // the full check, model probes included, when the server is down
        }
        try {
          const answer = await client.sendRequest<{ report?: string }>('tandem/doctor', {});
          return answer?.report ?? '';
        } catch (error) {
          return `tandem/doctor failed: ${errorMessage(error)}`;
        }
      },
    );
    if (report === undefined) {
      return;
    }
    doctorOutput.clear();
    doctorOutput.appendLine(report);
    doctorOutput.show(true);
  };

  return [
    doctorOutput,
    vscode.commands.registerCommand('tandem.selectModel', selectModel),
    vscode.commands.registerCommand('tandem.runDoctor', runDoctor),
    vscode.commands.registerCommand('tandem.installServer', installServer),
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

// Entry point: starts tandem-lsp, wires settings, the status bar and the commands.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { registerCommands } from './commands';
import { offerInstall } from './install';
import { resolveLaunch, serverMissing, ServerLaunchSettings } from './serverCommand';
import { buildServerSettings, completionWanted, serverSettingKeys } from './settings';
import { StatusBar, TandemStatus } from './statusBar';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Tandem', { log: true });
  const statusBar = new StatusBar('tandem.toggleCompletion');
  context.subscriptions.push(output, statusBar);

  const properties = context.extension.packageJSON?.contributes?.configuration?.properties ?? {};
  const keys = serverSettingKeys(properties);
  const currentSettings = () => {
    const config = vscode.workspace.getConfiguration('tandem');
    return buildServerSettings(keys, (key) => config.inspect(key));
  };

  const launchSettings = vscode.workspace.getConfiguration('tandem').get<ServerLaunchSettings>('server') ?? {};
  const launch = resolveLaunch(launchSettings);
  output.info(`Starting ${launch.command} ${launch.args.join(' ')}`);
  const serverOptions: ServerOptions = { command: launch.command, args: launch.args };

  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    initializationOptions: currentSettings(),
    outputChannel: output,
    traceOutputChannel: output,
    middleware: {
      // VS Code shows the suggestion as ghost text; the server's textDocument/completion
      // fallback (for clients without inline completion) would repeat it in a popup.
      provideCompletionItem: () => undefined,
      // Skip the round trip for languages the user switched off (disabledLanguages, or a
      // `[lang]` override of tandem.completion.enabled); the server checks the list too.
      provideInlineCompletionItems: (document, position, ctx, token, next) =>
        vscode.workspace.getConfiguration('tandem.completion', document).get<boolean>('enabled', true) &&
        completionWanted(currentSettings(), document.languageId)
          ? next(document, position, ctx, token)
          : undefined,
      workspace: {
        // Answer the pull model with the same explicit-only settings we push.
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return params.items.map((item, i) => (item.section === 'tandem' ? currentSettings() : answers[i]));
        },
      },
    },
  };

  client = new LanguageClient('tandem', 'Tandem', serverOptions, clientOptions);
  const lsp = client;
  context.subscriptions.push(
    lsp.onNotification('tandem/status', (status: TandemStatus) => statusBar.update(status)),
    lsp.onDidChangeState((event) => {
      if (event.newState === State.Stopped) {
        statusBar.update({ state: 'stopped', message: 'tandem-lsp is not running. See the Tandem output channel.' });
      } else if (event.newState === State.Starting) {
        statusBar.update({ state: 'loading', message: 'Starting tandem-lsp…' });
      }
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('tandem.server')) {
        const choice = await vscode.window.showInformationMessage(
          'Tandem: the server command changed. Reload the window to use it.',
          'Reload',
        );
        if (choice === 'Reload') {
          await vscode.commands.executeCommand('workbench.action.reloadWindow');
        }
      } else if (event.affectsConfiguration('tandem') && lsp.isRunning()) {
        await lsp.sendNotification(DidChangeConfigurationNotification.type, {
          settings: { tandem: currentSettings() },
        });
      }
    }),
    ...registerCommands(lsp, { statusBar, output, launchSettings, serverSettings: currentSettings }),
  );

  if (serverMissing(launchSettings, launch)) {
    const problem = launchSettings.path || launchSettings.pythonPath
      ? `"${launch.command}" does not exist.`
      : 'the language server tandem-lsp is not installed (not on PATH, nor in ~/.local/bin).';
    output.error(problem);
    statusBar.update({ state: 'error', message: `Tandem: ${problem} Run "Tandem: Install Server".` });
    void offerInstall(problem);
    return;
  }

  try {
    await lsp.start();
  } catch (error) {
    const message = `Tandem could not start "${launch.command}": ${String(error)}. Set tandem.server.path or tandem.server.pythonPath.`;
    output.error(message);
    statusBar.update({ state: 'error', message });
    void vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => {
      if (choice) {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'tandem.server');
      }
    });
  }
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
}

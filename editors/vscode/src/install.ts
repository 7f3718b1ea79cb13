// When tandem-lsp is not installed: name the exact command and offer to run it in a terminal.
import * as vscode from 'vscode';
import { installCommand, isTandemCheckout } from './serverCommand';

/** An open workspace folder that is a tandem-lsp clone (the install runs there). */
function openCheckout(): string | undefined {
  return vscode.workspace.workspaceFolders?.map((folder) => folder.uri.fsPath).find(isTandemCheckout);
}

/** Tell the user the server is missing and how to install it; `problem` says what was looked for. */
export async function offerInstall(problem: string): Promise<void> {
  const checkout = openCheckout();
  const message =
    `Tandem: ${problem} Install it from ${checkout ? checkout : 'your tandem-lsp clone'} with: ${installCommand()}` +
    ' — or set tandem.server.path.';
  const choice = await vscode.window.showErrorMessage(message, 'Install in Terminal', 'Open Settings');
  if (choice === 'Install in Terminal') {
    await installServer();
  } else if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'tandem.server');
  }
}

/** Run the install command in a terminal, in the open clone or one the user picks. */
export async function installServer(): Promise<void> {
  let folder = openCheckout();
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Tandem: the tandem-lsp clone to install the server from',
      openLabel: 'Install from this clone',
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
    });
    if (!picked?.length) {
      return;
    }
    folder = picked[0].fsPath;
    if (!isTandemCheckout(folder)) {
      void vscode.window.showErrorMessage(`Tandem: ${folder} is not a tandem-lsp clone (no pyproject.toml naming tandem-lsp).`);
      return;
    }
  }
  const terminal = vscode.window.createTerminal({ name: 'Install tandem-lsp', cwd: folder });
  terminal.show();
  terminal.sendText(installCommand());
  const choice = await vscode.window.showInformationMessage(
    'Tandem: installing the server in the terminal (llama.cpp compiles on the first install, a few minutes). ' +
      'Reload the window when it has finished.',
    'Reload Window',
  );
  if (choice) {
    await vscode.commands.executeCommand('workbench.action.reloadWindow');
  }
}

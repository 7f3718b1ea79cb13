// The status bar item: model loading, indexing, errors, and the on/off toggle.
import * as vscode from 'vscode';

/** Payload of the server's `tandem/status` notification. */
export interface TandemStatus {
  state: 'loading' | 'ready' | 'indexing' | 'error' | 'disabled' | 'stopped';
  message?: string;
}

const LOOKS: Record<TandemStatus['state'], { icon: string; label: string; background?: string }> = {
  loading: { icon: '$(loading~spin)', label: 'loading model' },
  ready: { icon: '$(sparkle)', label: '' },
  indexing: { icon: '$(sync~spin)', label: 'indexing' },
  error: { icon: '$(error)', label: 'error', background: 'statusBarItem.errorBackground' },
  disabled: { icon: '$(circle-slash)', label: 'off', background: 'statusBarItem.warningBackground' },
  stopped: { icon: '$(debug-disconnect)', label: 'stopped', background: 'statusBarItem.errorBackground' },
};

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private current: TandemStatus = { state: 'loading' };

  constructor(toggleCommand: string) {
    this.item = vscode.window.createStatusBarItem('tandem.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Tandem';
    this.item.command = toggleCommand;
    this.update({ state: 'loading', message: 'Starting tandem-lsp…' });
    this.item.show();
  }

  get state(): TandemStatus['state'] {
    return this.current.state;
  }

  update(status: TandemStatus): void {
    this.current = status;
    const look = LOOKS[status.state] ?? LOOKS.error;
    this.item.text = look.label ? `${look.icon} Tandem: ${look.label}` : `${look.icon} Tandem`;
    this.item.backgroundColor = look.background ? new vscode.ThemeColor(look.background) : undefined;
    const detail = status.message ? `${status.message}\n\n` : '';
    this.item.tooltip = `${detail}Click to turn inline completion ${status.state === 'disabled' ? 'on' : 'off'}.`;
  }

  dispose(): void {
    this.item.dispose();
  }
}

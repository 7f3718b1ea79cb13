// Decides how to start `tandem-lsp serve` from the `tandem.server.*` settings.
// Free of the `vscode` module so it can be unit-tested under plain Node.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ServerLaunchSettings {
  path?: string;
  pythonPath?: string;
  args?: string[];
}

export interface Launch {
  command: string;
  args: string[];
}

const EXECUTABLE = process.platform === 'win32' ? 'tandem-lsp.exe' : 'tandem-lsp';

/** Precedence: explicit executable, then a Python interpreter, then `tandem-lsp` on PATH. */
export function resolveLaunch(settings: ServerLaunchSettings, envPath = process.env.PATH ?? ''): Launch {
  const extra = (settings.args ?? []).filter((arg) => typeof arg === 'string');
  if (settings.path) {
    return { command: expandHome(settings.path), args: ['serve', ...extra] };
  }
  if (settings.pythonPath) {
    return { command: expandHome(settings.pythonPath), args: ['-m', 'tandem_lsp', 'serve', ...extra] };
  }
  return { command: findOnPath(EXECUTABLE, envPath) ?? EXECUTABLE, args: ['serve', ...extra] };
}

export function findOnPath(name: string, envPath: string): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

function expandHome(p: string): string {
  const home = process.env.HOME ?? process.env.USERPROFILE;
  return home && (p === '~' || p.startsWith('~/')) ? path.join(home, p.slice(1)) : p;
}

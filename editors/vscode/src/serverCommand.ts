// Decides how to start `tandem-lsp` from the `tandem.server.*` settings, and how to install it.
// Free of the `vscode` module so it can be unit-tested under plain Node.
import * as fs from 'node:fs';
import * as os from 'node:os';
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

/** Where `pipx install` and `uv tool install` put commands by default; often missing from an editor's PATH. */
export function toolBinDirs(home = os.homedir()): string[] {
  return home ? [path.join(home, '.local', 'bin')] : [];
}

/**
 * Precedence: explicit executable, then a Python interpreter, then `tandem-lsp` on PATH
 * or in a tool folder. `serve` gets `tandem.server.args`; other subcommands (`doctor`) get `extra`.
 */
export function resolveLaunch(
  settings: ServerLaunchSettings,
  envPath = process.env.PATH ?? '',
  fallbackDirs = toolBinDirs(),
  subcommand: string[] = ['serve', ...(settings.args ?? []).filter((arg) => typeof arg === 'string')],
): Launch {
  if (settings.path) {
    return { command: expandHome(settings.path), args: subcommand };
  }
  if (settings.pythonPath) {
    return { command: expandHome(settings.pythonPath), args: ['-m', 'tandem_lsp', ...subcommand] };
  }
  const found = findOnPath(EXECUTABLE, [envPath, ...fallbackDirs].join(path.delimiter));
  return { command: found ?? EXECUTABLE, args: subcommand };
}

/** Whether the server is not installed where the settings say (by default: neither on PATH nor in a tool folder). */
export function serverMissing(settings: ServerLaunchSettings, launch: Launch): boolean {
  if (settings.path || settings.pythonPath) {
    return path.isAbsolute(launch.command) && !fs.existsSync(launch.command);
  }
  return !path.isAbsolute(launch.command); // resolveLaunch found no file
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

/**
 * The command that installs the server as a tool, run in a tandem-lsp clone (the README's
 * install): pipx when present (it reuses pip's wheel cache for llama-cpp-python), else uv,
 * else pip's user install. `[local]` brings llama.cpp for GGUF models run in-process.
 */
export function installCommand(envPath = process.env.PATH ?? '', fallbackDirs = toolBinDirs()): string {
  const search = [envPath, ...fallbackDirs].join(path.delimiter);
  const has = (tool: string) => findOnPath(process.platform === 'win32' ? `${tool}.exe` : tool, search) !== undefined;
  if (has('pipx')) {
    return "pipx install --force './[local]'";
  }
  if (has('uv')) {
    return "uv tool install --force './[local]'";
  }
  return `${process.platform === 'win32' ? 'py' : 'python3'} -m pip install --user './[local]'`;
}

/** Whether `dir` is a checkout of tandem-lsp (its pyproject.toml names the project). */
export function isTandemCheckout(dir: string): boolean {
  try {
    const pyproject = fs.readFileSync(path.join(dir, 'pyproject.toml'), 'utf8');
    return /^name\s*=\s*["']tandem-lsp["']/m.test(pyproject);
  } catch {
    return false;
  }
}

/**
 * `tandem-lsp doctor` arguments for the model settings the server would get (the
 * object buildServerSettings makes), so the command-line doctor checks the same models.
 */
export function doctorArgs(settings: Record<string, unknown>): string[] {
  const completion = (settings.completionModel ?? {}) as Record<string, unknown>;
  const reasoning = (settings.reasoningModel ?? {}) as Record<string, unknown>;
  const flags: [string, unknown][] = [
    ['--model', completion.path],
    ['--endpoint', completion.endpoint],
    ['--threads', completion.threads],
    ['--gpu-layers', completion.gpuLayers],
    ['--ctx', completion.contextSize],
    ['--reasoning-model', reasoning.path],
  ];
  const args = ['doctor'];
  for (const [flag, value] of flags) {
    if ((typeof value === 'string' && value) || typeof value === 'number') {
      args.push(flag, String(value));
    }
  }
  return args;
}

export function expandHome(p: string): string {
  const home = process.env.HOME ?? process.env.USERPROFILE;
  return home && (p === '~' || p.startsWith('~/')) ? path.join(home, p.slice(1)) : p;
}

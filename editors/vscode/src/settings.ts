// Builds the settings object the server expects (initializationOptions and
// workspace/didChangeConfiguration) from VS Code's `tandem.*` configuration.
// Kept free of the `vscode` module so it can be unit-tested under plain Node.

/** Keys under `tandem.` that only configure the client (how to start the server). */
const CLIENT_ONLY_PREFIXES = ['server.', 'trace.'];

/** What VS Code's WorkspaceConfiguration.inspect() tells us about one key. */
export interface InspectedValue {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type Inspect = (key: string) => InspectedValue | undefined;

/** Keys (without the `tandem.` prefix) that belong to the server, from package.json's configuration. */
export function serverSettingKeys(configurationProperties: Record<string, unknown>): string[] {
  return Object.keys(configurationProperties)
    .filter((key) => key.startsWith('tandem.'))
    .map((key) => key.slice('tandem.'.length))
    .filter((key) => !CLIENT_ONLY_PREFIXES.some((prefix) => key.startsWith(prefix)));
}

/**
 * Only values the user set explicitly are sent: the server owns the defaults,
 * so a default changed there is not silently overridden by a stale copy here.
 */
export function buildServerSettings(keys: string[], inspect: Inspect): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const key of keys) {
    const info = inspect(key);
    const value = info?.workspaceFolderValue ?? info?.workspaceValue ?? info?.globalValue;
    if (value === undefined || value === null) {
      continue;
    }
    setDotted(settings, key, value);
  }
  return settings;
}

function setDotted(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Whether the client should ask for inline completions in this language at all. */
export function completionWanted(settings: Record<string, unknown>, languageId: string): boolean {
  const completion = (settings.completion ?? {}) as { enabled?: unknown; disabledLanguages?: unknown };
  if (completion.enabled === false) {
    return false;
  }
  const disabled = Array.isArray(completion.disabledLanguages) ? completion.disabledLanguages : [];
  return !disabled.includes(languageId);
}

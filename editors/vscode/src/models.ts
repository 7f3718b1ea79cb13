// The model picker's entries from the server's `tandem/models` answer.
// Free of the `vscode` module so it can be unit-tested under plain Node.
import { expandHome } from './serverCommand';

/** One row of `tandem/models` (the fields of `tandem-lsp models --json`, camelCase). */
export interface ModelRow {
  name: string;
  source: string;
  path: string;
  error?: string;
  fileSize?: number;
  quantization?: string;
  contextLength?: number;
  sizeLabel?: string;
  fimFamily?: string;
  hasFim?: boolean;
  hasChatTemplate?: boolean;
  reasoning?: boolean;
}

export interface ModelPick {
  label: string;
  description: string;
  detail: string;
  /** The GGUF to write to the setting; `""` for the embedded default (the setting is cleared). */
  path: string;
}

export function humanSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${size}B` : `${size.toFixed(1)}${units[unit]}`;
}

/**
 * Readable models, those with fill-in-the-middle tokens first (they are the ones
 * that complete well), the current one marked. Unreadable files are left out.
 */
export function modelPicks(rows: ModelRow[], currentPath: string): ModelPick[] {
  const readable = rows.filter((row) => !row.error && typeof row.path === 'string');
  const ordered = [...readable.filter((row) => row.hasFim), ...readable.filter((row) => !row.hasFim)];
  return ordered.map((row) => {
    const embedded = row.source === 'embedded';
    const current = embedded ? currentPath === '' : samePath(row.path, currentPath);
    const facts = [
      row.hasFim ? `FIM (${row.fimFamily})` : 'no FIM: prefix-only completion',
      row.hasChatTemplate ? 'chat' : '',
      row.reasoning ? 'reasoning' : '',
      row.contextLength ? `ctx ${row.contextLength}` : '',
    ].filter(Boolean);
    return {
      label: `${current ? '$(check) ' : ''}${row.name}`,
      description: [embedded ? 'embedded default' : row.source, row.sizeLabel, row.fileSize ? humanSize(row.fileSize) : '', row.quantization]
        .filter(Boolean)
        .join(' · '),
      detail: `${facts.join(' · ')} — ${row.path}`,
      path: embedded ? '' : row.path,
    };
  });
}

function samePath(a: string, b: string): boolean {
  const plain = (p: string) => expandHome(p).replace(/[\\/]+$/, '');
  return a !== '' && b !== '' && plain(a) === plain(b);
}

// Turns a server command's answer into Markdown for a read-only preview.
// The server answers with text or with structured findings; both read well.
// Free of the `vscode` module so it can be unit-tested under plain Node.

interface Finding {
  message?: unknown;
  severity?: unknown;
  range?: { start?: { line?: unknown } };
  line?: unknown;
  fix?: unknown;
  replacement?: unknown;
}

const TEXT_FIELDS = ['markdown', 'text', 'explanation', 'answer', 'content', 'message'];

export function renderResult(title: string, result: unknown): string {
  return `# ${title}\n\n${renderBody(result)}\n`;
}

function renderBody(result: unknown): string {
  if (result === null || result === undefined) {
    return '_No answer from the server._';
  }
  if (typeof result === 'string') {
    return result;
  }
  if (Array.isArray(result)) {
    return result.length ? result.map(renderFinding).join('\n') : '_No findings._';
  }
  if (typeof result === 'object') {
    const record = result as Record<string, unknown>;
    const parts: string[] = [];
    const text = TEXT_FIELDS.map((field) => record[field]).find((value) => typeof value === 'string');
    if (typeof text === 'string') {
      parts.push(text);
    }
    if (Array.isArray(record.findings)) {
      parts.push(record.findings.length ? record.findings.map(renderFinding).join('\n') : '_No findings._');
    }
    if (typeof record.diff === 'string' && record.diff.trim()) {
      parts.push('```diff\n' + record.diff.replace(/\n$/, '') + '\n```');
    }
    if (parts.length) {
      return parts.join('\n\n');
    }
  }
  return '```json\n' + JSON.stringify(result, null, 2) + '\n```';
}

function renderFinding(finding: unknown): string {
  if (typeof finding !== 'object' || finding === null) {
    return `- ${String(finding)}`;
  }
  const f = finding as Finding;
  const line = typeof f.range?.start?.line === 'number' ? f.range.start.line + 1 : f.line;
  const where = typeof line === 'number' ? `line ${line}` : '';
  const severity = typeof f.severity === 'string' ? f.severity : '';
  const head = [severity, where].filter(Boolean).join(', ');
  const fixText = typeof f.fix === 'string' ? f.fix : typeof f.replacement === 'string' ? f.replacement : '';
  const fix = fixText ? `\n  - fix: \`${fixText.replace(/\n/g, ' ')}\`` : '';
  return `- ${head ? `**${head}**: ` : ''}${String(f.message ?? JSON.stringify(f))}${fix}`;
}

/** One-line summary of the stats object for a notification; the full object goes to the preview. */
export function summarizeStats(stats: unknown): string {
  if (typeof stats !== 'object' || stats === null) {
    return 'Tandem: no stats yet.';
  }
  // The server nests completion figures under `completion`; accept a flat object too.
  const outer = stats as Record<string, unknown>;
  const s = (typeof outer.completion === 'object' && outer.completion !== null ? outer.completion : outer) as Record<string, unknown>;
  const parts: string[] = [];
  const pick = (names: string[]): unknown => names.map((n) => s[n]).find((v) => v !== undefined);
  const p50 = pick(['p50Ms', 'p50', 'latencyP50Ms']);
  const p95 = pick(['p95Ms', 'p95', 'latencyP95Ms']);
  const hit = pick(['cacheHitRate', 'cacheHitRatio']);
  const count = pick(['requests', 'completions', 'count']);
  const accepted = pick(['accepted']);
  if (typeof count === 'number') parts.push(`${count} requests`);
  if (typeof accepted === 'number') parts.push(`${accepted} accepted`);
  if (typeof p50 === 'number') parts.push(`p50 ${Math.round(p50)} ms`);
  if (typeof p95 === 'number') parts.push(`p95 ${Math.round(p95)} ms`);
  if (typeof hit === 'number') parts.push(`cache hits ${Math.round(hit * 100)}%`);
  return parts.length ? `Tandem: ${parts.join(', ')}` : 'Tandem stats';
}

// Turns a server command's answer into Markdown for a read-only preview.
// Review answers carry LSP diagnostics (also published to the Problems view),
// explain answers text, debug answers an explanation and a diff.
// Free of the `vscode` module so it can be unit-tested under plain Node.

interface Finding {
  message?: unknown;
  severity?: unknown;
  range?: { start?: { line?: unknown } };
  line?: unknown;
  fix?: unknown;
  replacement?: unknown;
  data?: { replacement?: unknown };
}

const TEXT_FIELDS = ['markdown', 'text', 'explanation', 'answer', 'content', 'message'];
// LSP DiagnosticSeverity numbers.
const SEVERITY_NAMES: Record<number, string> = { 1: 'error', 2: 'warning', 3: 'info', 4: 'hint' };
// The model's reasoning can be long; the preview keeps the start.
const MAX_REASONING_CHARS = 3000;

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
    return renderFindings(result);
  }
  if (typeof result !== 'object') {
    return String(result);
  }
  const record = result as Record<string, unknown>;
  if (typeof record.error === 'string') {
    return `**Error:** ${record.error}`;
  }
  if (record.cancelled === true) {
    return '_Cancelled._';
  }
  if (record.stale === true) {
    return '_The file changed while the model worked; run it again._';
  }
  const parts: string[] = [];
  const text = TEXT_FIELDS.map((field) => record[field]).find((value) => typeof value === 'string' && value.trim());
  if (typeof text === 'string') {
    parts.push(text);
  }
  const findings = Array.isArray(record.findings) ? record.findings : Array.isArray(record.diagnostics) ? record.diagnostics : undefined;
  if (findings) {
    parts.push(renderFindings(findings));
  }
  if (typeof record.note === 'string' && record.note.trim()) {
    parts.push(`_${record.note.trim()}_`);
  }
  if (typeof record.diff === 'string' && record.diff.trim()) {
    parts.push('```diff\n' + record.diff.replace(/\n$/, '') + '\n```');
  }
  if (typeof record.reasoning === 'string' && record.reasoning.trim()) {
    const reasoning = record.reasoning.trim();
    const cut = reasoning.length > MAX_REASONING_CHARS ? `${reasoning.slice(0, MAX_REASONING_CHARS)}…` : reasoning;
    parts.push(`## Reasoning\n\n${cut}`);
  }
  return parts.length ? parts.join('\n\n') : '```json\n' + JSON.stringify(result, null, 2) + '\n```';
}

function renderFindings(findings: unknown[]): string {
  return findings.length ? findings.map(renderFinding).join('\n') : '_No findings._';
}

function renderFinding(finding: unknown): string {
  if (typeof finding !== 'object' || finding === null) {
    return `- ${String(finding)}`;
  }
  const f = finding as Finding;
  const line = typeof f.range?.start?.line === 'number' ? f.range.start.line + 1 : f.line;
  const where = typeof line === 'number' ? `line ${line}` : '';
  const severity = typeof f.severity === 'number' ? SEVERITY_NAMES[f.severity] ?? '' : typeof f.severity === 'string' ? f.severity : '';
  const head = [severity, where].filter(Boolean).join(', ');
  const fixText = [f.fix, f.replacement, f.data?.replacement].find((v): v is string => typeof v === 'string' && v !== '') ?? '';
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

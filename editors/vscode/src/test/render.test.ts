import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderResult, summarizeStats } from '../render';

test('text answers are shown as they are', () => {
  assert.equal(renderResult('Explanation', 'It adds numbers.'), '# Explanation\n\nIt adds numbers.\n');
  assert.match(renderResult('Debugging', { markdown: 'Cause: **x** is None' }), /Cause: \*\*x\*\* is None/);
});

test('findings become a list with 1-based lines', () => {
  const md = renderResult('Review', {
    findings: [{ message: 'Division by zero', severity: 'warning', range: { start: { line: 4 } }, fix: 'if b == 0: return 0' }],
  });
  assert.match(md, /- \*\*warning, line 5\*\*: Division by zero/);
  assert.match(md, /fix: `if b == 0: return 0`/);
  assert.match(renderResult('Review', []), /No findings/);
  assert.match(renderResult('Review', [{ message: 'm', replacement: 'x = 1' }]), /fix: `x = 1`/);
});

test('a debug answer shows its explanation and diff', () => {
  const md = renderResult('Debugging', { explanation: 'b can be zero', diff: '--- a\n+++ b\n-x\n+y\n' });
  assert.match(md, /b can be zero\n\n```diff\n--- a\n\+\+\+ b\n-x\n\+y\n```/);
});

test('a review answer lists its diagnostics with severity names and replacements', () => {
  const md = renderResult('Review', {
    findings: 1,
    note: 'verified by the reasoning model',
    diagnostics: [{ message: 'b may be zero', severity: 2, range: { start: { line: 2 } }, data: { replacement: 'return a / b if b else 0' } }],
  });
  assert.match(md, /- \*\*warning, line 3\*\*: b may be zero\n {2}- fix: `return a \/ b if b else 0`/);
  assert.match(md, /_verified by the reasoning model_/);
  assert.equal(renderResult('Review', { cancelled: true }), '# Review\n\n_Cancelled._\n');
  assert.match(renderResult('Review', { error: 'document not open: x' }), /\*\*Error:\*\* document not open: x/);
});

test('reasoning goes under its own heading', () => {
  assert.match(renderResult('Explanation', { text: 'Adds.', reasoning: 'think' }), /Adds\.\n\n## Reasoning\n\nthink/);
});

test('unknown shapes fall back to JSON', () => {
  assert.match(renderResult('X', { a: 1 }), /```json\n\{\n {2}"a": 1\n\}\n```/);
});

test('stats summary picks the latency and cache figures', () => {
  assert.equal(
    summarizeStats({ completion: { requests: 12, accepted: 3, p50Ms: 81.4, p95Ms: 240.2, cacheHitRate: 0.25 }, models: [] }),
    'Tandem: 12 requests, 3 accepted, p50 81 ms, p95 240 ms, cache hits 25%',
  );
  assert.equal(summarizeStats({ p50Ms: 10 }), 'Tandem: p50 10 ms');
});

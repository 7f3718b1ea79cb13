import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildServerSettings, completionWanted, serverSettingKeys } from '../settings';
import packageJson = require('../../package.json');

const properties = packageJson.contributes.configuration.properties;

test('server keys come from package.json and leave out client-only keys', () => {
  const keys = serverSettingKeys(properties);
  assert.ok(keys.includes('completionModel.path'));
  assert.ok(keys.includes('reasoningModel.gpuLayers'));
  assert.ok(keys.includes('completion.disabledLanguages'));
  // Generated from the server's settings model (scripts/gen-settings.py): every server setting is here.
  assert.ok(keys.includes('completionModel.fimFamily'));
  assert.ok(keys.includes('index.workspaceSymbols'));
  assert.ok(!keys.some((key) => key.startsWith('server.') || key.startsWith('trace.')));
});

test('only explicitly set values are sent, nested in camelCase, most specific scope wins', () => {
  const set: Record<string, object> = {
    'completionModel.path': { globalValue: '/models/a.gguf' },
    'completionModel.threads': { globalValue: 4, workspaceValue: 2 },
    'completion.disabledLanguages': { workspaceFolderValue: ['markdown'], globalValue: ['text'] },
    'completion.enabled': { globalValue: false },
  };
  const settings = buildServerSettings(serverSettingKeys(properties), (key) => set[key]);
  assert.deepEqual(settings, {
    completionModel: { path: '/models/a.gguf', threads: 2 },
    completion: { disabledLanguages: ['markdown'], enabled: false },
  });
});

test('nothing set gives an empty object, so the server keeps its defaults', () => {
  assert.deepEqual(buildServerSettings(serverSettingKeys(properties), () => undefined), {});
});

test('package.json defaults mirror the server defaults it documents', () => {
  assert.equal(properties['tandem.completionModel.contextSize'].default, 4096);
  assert.equal(properties['tandem.completionModel.gpuLayers'].default, -1);
  assert.equal(properties['tandem.completion.maxTokens'].default, 128);
});

test('completion is skipped for disabled languages and when switched off', () => {
  assert.equal(completionWanted({}, 'python'), true);
  assert.equal(completionWanted({ completion: { disabledLanguages: ['markdown'] } }, 'markdown'), false);
  assert.equal(completionWanted({ completion: { disabledLanguages: ['markdown'] } }, 'python'), true);
  assert.equal(completionWanted({ completion: { enabled: false } }, 'python'), false);
});

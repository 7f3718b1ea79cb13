// Drives VS Code (code-server) in headless chromium: open calc.py, type, wait
// for tandem's ghost text, accept it with Tab, save, check the file on disk,
// then run "Tandem: Show Stats" and check the server counted the acceptance,
// review the file, pick a model with "Tandem: Select Model" (the choice must
// land in the user's settings.json) and check "Tandem: Run Doctor" names it.
// Started by ../e2e-code-server.sh, which sets the E2E_* variables.
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const { E2E_URL, E2E_FILE, E2E_OUT, E2E_SETTINGS, E2E_PICKED, CHROMIUM } = process.env;
const TYPED_LINE = '    return a +';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let page;

// Runs a command by its title from the command palette.
async function runCommand(title) {
  await page.keyboard.press('F1');
  await sleep(800);
  await page.keyboard.type(title);
  await sleep(1200);
  await page.keyboard.press('Enter');
}

async function waitFor(what, check, timeoutMs, onTick) {
  const deadline = Date.now() + timeoutMs;
  for (let tick = 0; Date.now() < deadline; tick++) {
    const value = await check();
    if (value) return value;
    if (onTick) await onTick(tick);
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--window-size=1400,900',
  ],
  defaultViewport: { width: 1400, height: 900 },
});
page = await browser.newPage();
const log = [];
const step = (msg) => {
  log.push(`${new Date().toISOString()} ${msg}`);
  console.log(`[e2e] ${msg}`);
};
let ok = false;
try {
  step(`open ${E2E_URL}`);
  await page.goto(E2E_URL, { waitUntil: 'domcontentloaded', timeout: 120_000 });
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  await sleep(3000); // let the workbench settle (restored editors, welcome)

  step('quick open calc.py');
  await waitFor('calc.py editor', async () => {
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyP');
    await page.keyboard.up('Control');
    await sleep(800);
    await page.keyboard.type('calc.py');
    await sleep(1200);
    await page.keyboard.press('Enter');
    await sleep(1500);
    return page.$('.monaco-editor .view-line');
  }, 60_000);

  const statusText = () =>
    page.$$eval('.statusbar-item', (items) => items.map((i) => i.textContent || '').find((t) => t.includes('Tandem')) || '');
  step('wait for the tandem status bar item');
  const firstStatus = await waitFor('Tandem status bar item', statusText, 90_000);
  step(`status bar: ${firstStatus.trim()}`);

  step('type at the end of "    return"');
  await page.click('.monaco-editor .view-lines');
  await page.keyboard.down('Control');
  await page.keyboard.press('End');
  await page.keyboard.up('Control');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('End');
  await page.keyboard.type(' a +', { delay: 60 });

  const ghost = () =>
    page.evaluate(() => {
      const parts = [...document.querySelectorAll('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text')];
      return parts.map((p) => (p.textContent || '').replace(/\u00a0/g, ' ')).join('\n');
    });
  step('wait for ghost text');
  const ghostText = await waitFor('ghost text', async () => ((await ghost()).trim() ? ghost() : null), 120_000, async (tick) => {
    if (tick > 0 && tick % 30 === 0) {
      // The first answer can be empty while the model loads on a busy machine, and
      // VS Code asks again only on an edit: retype the last character.
      step('no ghost text yet: retyping the last character');
      await page.keyboard.press('Backspace');
      await page.keyboard.type('+', { delay: 60 });
    }
  });
  step(`ghost text: ${JSON.stringify(ghostText)}`);
  await page.screenshot({ path: path.join(E2E_OUT, 'ghost.png') });

  step('accept with Tab and save');
  const before = fs.readFileSync(E2E_FILE, 'utf8');
  await page.keyboard.press('Tab');
  await waitFor('ghost text gone', async () => !(await ghost()).trim(), 10_000);
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyS');
  await page.keyboard.up('Control');
  const after = await waitFor('file saved', () => {
    const text = fs.readFileSync(E2E_FILE, 'utf8');
    return text !== before ? text : null;
  }, 20_000);
  step(`saved file:\n${after}`);

  const lines = after.split('\n');
  const idx = lines.findIndex((l) => l.startsWith(TYPED_LINE));
  if (idx !== 2) throw new Error(`typed line not found where expected:\n${after}`);
  const inserted = lines.slice(2).join('\n').slice(TYPED_LINE.length).replace(/\n+$/, '');
  if (!inserted.trim()) throw new Error('nothing was inserted after the typed text');
  const firstGhostLine = ghostText.split('\n')[0];
  if (!inserted.startsWith(firstGhostLine)) {
    throw new Error(`inserted ${JSON.stringify(inserted)} does not match ghost ${JSON.stringify(ghostText)}`);
  }
  step(`inserted ${JSON.stringify(inserted)}`);

  step('run "Tandem: Show Stats"');
  await runCommand('Tandem: Show Stats');
  const toast = await waitFor('stats notification', () =>
    page.$$eval('.notification-list-item-message', (ms) => ms.map((m) => m.textContent || '').find((t) => t.includes('Tandem:')) || ''), 20_000);
  step(`stats: ${toast.trim()}`);
  const accepted = /(\d+) accepted/.exec(toast);
  if (!accepted || Number(accepted[1]) < 1) throw new Error(`server did not count the acceptance: ${toast}`);

  step('run "Tandem: Review File"');
  await page.click('.monaco-editor .view-lines');
  await runCommand('Tandem: Review File');
  const review = await waitFor('review preview', () =>
    page.$$eval('.monaco-editor .view-lines', (views) =>
      views.map((v) => (v.textContent || '').replace(/\u00a0/g, ' ')).find((t) => t.startsWith('# Review')) || ''), 90_000);
  step(`review preview: ${JSON.stringify(review.slice(0, 200))}`);
  const reviewNote = await waitFor('review notification', () =>
    page.$$eval('.notification-list-item-message', (ms) => ms.map((m) => m.textContent || '').find((t) => /finding/.test(t)) || ''), 20_000);
  step(`review: ${reviewNote.trim()}`);

  step('run "Tandem: Select Model" and pick the model in the e2e models folder');
  await page.click('.monaco-editor .view-lines');
  await runCommand('Tandem: Select Model');
  const pickedName = path.basename(E2E_PICKED);
  const rows = () =>
    page.$$eval('.quick-input-list .monaco-list-row', (items) => items.map((i) => (i.textContent || '').replace(/\u00a0/g, ' ')));
  const listed = await waitFor('the model list', async () => ((await rows()).some((t) => t.includes('.gguf')) ? rows() : null), 30_000);
  step(`models listed: ${listed.length} rows`);
  if (!listed.some((t) => t.includes(pickedName))) throw new Error(`${pickedName} is not among the models: ${JSON.stringify(listed)}`);
  await page.keyboard.type(pickedName.replace('.gguf', ''));
  await sleep(800);
  await page.keyboard.press('Enter');
  const written = await waitFor('the choice in settings.json', () => {
    const settings = fs.readFileSync(E2E_SETTINGS, 'utf8');
    return settings.includes(pickedName) ? settings : null;
  }, 20_000);
  const chosen = /"tandem\.completionModel\.path":\s*"([^"]*)"/.exec(written);
  if (!chosen || path.basename(chosen[1]) !== pickedName) throw new Error(`settings.json does not name the pick:\n${written}`);
  step(`settings.json: tandem.completionModel.path = ${chosen[1]}`);

  step('run "Tandem: Run Doctor": its report names the model just picked (the server has the new setting)');
  await runCommand('Tandem: Run Doctor');
  // The report is in the Output panel; its editor renders one element per line.
  const panelText = () =>
    page.$$eval('.part.panel .view-line', (lines) => lines.map((l) => (l.textContent || '').replace(/\u00a0/g, ' ')).join('\n'));
  const report = await waitFor('the doctor report naming the pick', async () => {
    // The panel follows the end of the report and renders only the lines in view: go to its top.
    const view = await page.$('.part.panel .view-lines');
    if (!view) return '';
    await view.click();
    await page.keyboard.down('Control');
    await page.keyboard.press('Home');
    await page.keyboard.up('Control');
    await sleep(300);
    const text = await panelText();
    return text.includes('completion model:') ? text : '';
  }, 60_000, async (tick) => {
    if (tick > 0 && tick % 40 === 0) {
      step('report does not name the pick yet: running the doctor again');
      await runCommand('Tandem: Run Doctor');
    }
  });
  const modelLine = /completion model: \S+/.exec(report)?.[0] || '';
  step(`doctor: ${modelLine}`);
  if (!modelLine.includes(pickedName)) throw new Error(`the doctor's report does not name ${pickedName}: ${report.slice(0, 400)}`);
  step(`status bar at the end: ${(await statusText()).trim()}`);
  ok = true;
} catch (error) {
  step(`ERROR ${error.stack || error}`);
  await page.screenshot({ path: path.join(E2E_OUT, 'failure.png') }).catch(() => {});
} finally {
  fs.writeFileSync(path.join(E2E_OUT, 'e2e.log'), log.join('\n') + '\n');
  await browser.close();
}
console.log(ok ? '[e2e] PASS' : '[e2e] FAIL');
process.exit(ok ? 0 : 1);

// Keeps the web UI's Live tab open in headless Debian chromium for a while, as someone watching the cameras would, and
// records what it shows: a screenshot every SHOT_EVERY seconds and, every 10 s, the number of camera tiles, feed items,
// the connection line and any JavaScript error. Drives chromium over its DevTools protocol (no Playwright download).
// Usage: node --experimental-websocket bench/live_tab.mjs SIGNIN_URL SECONDS OUT_DIR [SHOT_EVERY=120]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, seconds, out, shotEvery = '120'] = process.argv.slice(2);
if (!url || !seconds || !out) { console.error('usage: live_tab.mjs SIGNIN_URL SECONDS OUT_DIR [SHOT_EVERY]'); process.exit(2); }
const sleep = ms => new Promise(r => setTimeout(r, ms));
const profile = mkdtempSync(join(tmpdir(), 'reid-live-tab-'));
const browser = spawn('/usr/bin/chromium', ['--headless=new', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--no-first-run', '--disable-gpu', '--remote-debugging-port=0',
  `--user-data-dir=${profile}`, '--window-size=1400,1400', 'about:blank'], { stdio: 'ignore' });

// chromium writes the port it chose into the profile
let port;
for (let i = 0; i < 100 && !port; i++) {
  await sleep(200);
  const f = join(profile, 'DevToolsActivePort');
  if (existsSync(f)) port = readFileSync(f, 'utf8').split('\n')[0];
}
if (!port) { console.error('chromium did not open its DevTools port'); browser.kill(); process.exit(1); }
const pages = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const ws = new WebSocket(pages.find(p => p.type === 'page').webSocketDebuggerUrl);
await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
let next = 0; const waiting = new Map(); const errors = [];
ws.onmessage = m => {
  const msg = JSON.parse(m.data);
  if (msg.id && waiting.has(msg.id)) { waiting.get(msg.id)(msg); waiting.delete(msg.id); }
  else if (msg.method === 'Runtime.exceptionThrown') errors.push(msg.params.exceptionDetails.exception?.description ?? msg.params.exceptionDetails.text);
  else if (msg.method === 'Runtime.consoleAPICalled' && msg.params.type === 'error') errors.push(msg.params.args.map(a => a.value ?? a.description).join(' '));
};
const send = (method, params = {}) => new Promise(ok => { const id = ++next; waiting.set(id, ok); ws.send(JSON.stringify({ id, method, params })); });
const evaluate = async expr => (await send('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true })).result?.result?.value;
const shot = async name => {
  const r = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  writeFileSync(join(out, name), Buffer.from(r.result.data, 'base64'));
};

await send('Page.enable'); await send('Runtime.enable');
await send('Page.navigate', { url });
await sleep(4000);
await evaluate(`document.querySelector('button[data-tab=live]').click()`);
const started = Date.now(); let lastShot = -1;
const log = join(out, 'live-tab.jsonl');
while ((Date.now() - started) / 1000 < Number(seconds)) {
  const t = Math.round((Date.now() - started) / 1000);
  const seen = await evaluate(`({
    tiles: document.querySelectorAll('#live-cameras > *').length,
    feed: document.querySelectorAll('#live-feed li').length,
    connection: document.querySelector('#live-connection')?.textContent ?? '',
    tileText: [...document.querySelectorAll('#live-cameras > *')].map(e => e.innerText.replace(/\\s+/g, ' ').slice(0, 80)),
  })`);
  appendFileSync(log, JSON.stringify({ t, ...seen, errors: errors.length }) + '\n');
  const slot = Math.floor(t / Number(shotEvery));
  if (slot !== lastShot) { lastShot = slot; await shot(`live-${String(t).padStart(4, '0')}s.png`); }
  await sleep(10000);
}
await shot('live-end.png');
// a person's path across cameras, as someone clicking the newest person in the feed sees it
await evaluate(`document.querySelector('#live-feed button.link')?.click()`);
await sleep(3000);
await shot('live-path.png');
console.log(JSON.stringify({ seconds: Number(seconds), errors }));
ws.close(); browser.kill(); await sleep(500);
rmSync(profile, { recursive: true, force: true });

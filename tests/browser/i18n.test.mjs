// Every Chinese text a page shows has its English: each t('…') in the page's scripts and each
// data-i18n text in its HTML is a key of the English dictionaries that page loads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const web = (f) => readFileSync(new URL(`../../web/${f}`, import.meta.url), 'utf8');
const unquote = (s) => s.replace(/\\(.)/g, '$1');

function englishKeys(src) {
  const keys = new Set();
  for (const block of src.split('addEN(').slice(1)) {
    const body = block.slice(0, block.indexOf('\n});'));
    for (const m of body.matchAll(/'((?:[^'\\]|\\.)*)'\s*:/g)) keys.add(unquote(m[1]));
  }
  return keys;
}

function shownTexts(js, html) {
  const out = new Set();
  for (const m of js.matchAll(/\bt\('((?:[^'\\]|\\.)*)'/g)) out.add(unquote(m[1]));
  for (const m of html.matchAll(/<(\w+)[^>]*\sdata-i18n(?:\s[^>]*)?>([^<]*)</g)) out.add(m[2].trim());
  for (const m of html.matchAll(/data-i18n-(?:placeholder|label)="([^"]*)"/g)) out.add(m[1]);
  return out;
}

describe('English for every page', () => {
  const common = web('common.js');
  for (const [html, script] of [['index.html', 'app.js'], ['agent.html', 'agent.js'], ['admin.html', 'admin.js']]) {
    it(`${html}: every text has its English`, () => {
      const js = web(script);
      const keys = new Set([...englishKeys(common), ...englishKeys(js)]);
      const shown = shownTexts(`${common}\n${js}`, web(html));
      const missing = [...shown].filter((s) => /[\u4e00-\u9fff]/.test(s) && !keys.has(s));
      assert.deepEqual(missing, [], `no English for: ${missing.join(' | ')}`);
    });
  }
});

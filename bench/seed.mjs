// Seeds card-key stock for the benchmark through the public API (not timed as part of any figure):
// creates PRODUCTS card_key products and imports KEYS card keys into each with the CSV import
// (POST /v1/products/{id}/card_keys, text/csv, at most 10,000 rows a request).
//
//   node bench/seed.mjs BASE_URL ADMIN_KEY PRODUCTS KEYS_PER_PRODUCT TAG OUT_FILE
//
// OUT_FILE gets one product id a line. Card numbers are unique across the whole run (TAG is a
// distinct digit per call) because the shop refuses a key it already holds.
import { writeFileSync } from 'node:fs';

const [base, admin, productsArg, keysArg, tag, outFile] = process.argv.slice(2);
const products = Number(productsArg);
const perProduct = Number(keysArg);
const auth = { authorization: `Bearer ${admin}` };

async function post(path, body, type) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { ...auth, 'content-type': type },
    body,
  });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`${path} -> ${res.status} ${text.slice(0, 300)}`);
  }
  return JSON.parse(text);
}

const ids = [];
let serial = 0;
const t0 = Date.now();
// A few requests in flight keep the single writer busy without queueing much.
const inflight = new Set();
for (let p = 0; p < products; p++) {
  const prod = await post('/v1/products', JSON.stringify({
    kind: 'card_key',
    name: `Bench card ${tag}-${p}`,
    price_fen: 1000,
    face_value_fen: 1000,
    refund_window_hours: 24,
  }), 'application/json');
  ids.push(prod.id);
  for (let done = 0; done < perProduct; done += 10000) {
    const n = Math.min(10000, perProduct - done);
    const lines = [];
    for (let i = 0; i < n; i++, serial++) {
      lines.push(`${tag}${String(serial).padStart(9, '0')},BENCH${tag}X${serial.toString(36).toUpperCase().padStart(8, '0')}`);
    }
    const job = post(`/v1/products/${prod.id}/card_keys`, lines.join('\n') + '\n', 'text/csv')
      .then((r) => {
        if (r.imported !== n) throw new Error(`imported ${r.imported} of ${n}`);
      })
      .finally(() => inflight.delete(job));
    inflight.add(job);
    if (inflight.size >= 4) await Promise.race(inflight);
  }
}
await Promise.all(inflight);
writeFileSync(outFile, ids.join('\n') + '\n');
console.log(`seeded ${products} product(s) x ${perProduct} keys in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

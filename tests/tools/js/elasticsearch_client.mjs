// The official JavaScript client (@elastic/elasticsearch 9) against Logfleet: the APIs its
// users call on a logging cluster. Run by tests/tools/test_elasticsearch_js.py with the
// server's URL; exits non-zero, naming the step, when an answer is not Elasticsearch's.
//
//   node tests/tools/js/elasticsearch_client.mjs http://127.0.0.1:9200

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";

// The client is installed in the tools' cache (scripts/tool-tests), not in this repository.
const require = createRequire(join(process.env.LOGFLEET_TOOLS_DIR, "node_modules", "index.js"));
const { Client, errors } = require("@elastic/elasticsearch");

const client = new Client({ node: process.argv[2] });
const index = `js-${Date.now()}`;
const steps = [];

async function step(name, run) {
  try {
    await run();
    steps.push(name);
  } catch (error) {
    process.stderr.write(`step failed: ${name}\n${error.stack ?? error}\n${JSON.stringify(error.meta?.body ?? null)}\n`);
    process.exit(1);
  }
}

await step("info", async () => {
  const info = await client.info();
  assert.equal(info.tagline, "You Know, for Search");
});
await step("create an index with settings and a mapping", async () => {
  await client.indices.create({
    index,
    settings: { number_of_shards: 1, refresh_interval: "5s" },
    mappings: { properties: { level: { type: "keyword" }, n: { type: "long" }, message: { type: "text" } } },
  });
});
await step("bulk helper", async () => {
  const result = await client.helpers.bulk({
    datasource: [1, 2, 3, 4].map((n) => ({ level: n % 2 ? "info" : "error", n, message: `event ${n}` })),
    onDocument: (document) => ({ index: { _index: index, _id: String(document.n) } }),
    refreshOnCompletion: index,
  });
  assert.equal(result.successful, 4);
});
await step("search", async () => {
  const result = await client.search({ index, query: { term: { level: "error" } }, sort: [{ n: "asc" }] });
  assert.deepEqual(result.hits.hits.map((hit) => hit._id), ["2", "4"]);
});
await step("get, mget and sequence numbers", async () => {
  const got = await client.get({ index, id: "1" });
  assert.equal(got._primary_term, 1);
  const many = await client.mget({ index, ids: ["1", "9"] });
  assert.deepEqual(many.docs.map((doc) => doc.found), [true, false]);
  await assert.rejects(
    client.index({ index, id: "1", document: { n: 1 }, if_seq_no: got._seq_no + 1000, if_primary_term: 1 }),
    (error) => error instanceof errors.ResponseError && error.statusCode === 409,
  );
});
await step("update and update by query", async () => {
  const updated = await client.update({ index, id: "1", doc: { level: "warning" } });
  assert.equal(updated.result, "updated");
  const script = await client.update({ index, id: "1", script: { source: "ctx._source.n += params.k", params: { k: 10 } } });
  assert.equal(script.result, "updated");
  const byQuery = await client.updateByQuery({ index, query: { term: { level: "error" } }, script: "ctx._source.n *= 2", refresh: true });
  assert.equal(byQuery.updated, 2);
  assert.equal((await client.get({ index, id: "4" }))._source.n, 8);
});
await step("settings, stats and cluster settings", async () => {
  const settings = await client.indices.getSettings({ index, flat_settings: true });
  assert.equal(settings[index].settings["index.refresh_interval"], "5s");
  const stats = await client.indices.stats({ index, metric: "docs" });
  assert.equal(stats.indices[index].primaries.docs.count, 4);
  const nodes = await client.nodes.stats({ metric: "jvm,fs" });
  assert.equal(Object.keys(nodes.nodes).length, 1);
  const cluster = await client.cluster.stats();
  assert.ok(cluster.indices.docs.count >= 4);
  await client.cluster.putSettings({ persistent: { "search.max_buckets": 20000 } });
  const kept = await client.cluster.getSettings({ flat_settings: true });
  assert.equal(kept.persistent["search.max_buckets"], "20000");
  await client.cluster.putSettings({ persistent: { "search.max_buckets": null } });
});
await step("errors in Elasticsearch's shape", async () => {
  await assert.rejects(client.indices.get({ index: "no-such-index" }), (error) => {
    assert.equal(error.body.error.type, "index_not_found_exception");
    return true;
  });
});
await step("delete the index", async () => {
  await client.indices.delete({ index });
});
process.stdout.write(`${JSON.stringify({ steps })}\n`);

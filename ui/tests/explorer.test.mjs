// Browser tests of the log explorer against the real logfleet binary (LOGFLEET_BIN), filled
// by the quickstart's demo services and traffic; the tests that need exact, known or hostile
// events write them with _bulk on top. Every test fails on a console error or warning, a page
// error or a dialog; waits are on the panels' data-state, never on fixed delays.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import {
  countMatching, explorerUrl, ingest, launchBrowser, screenshot, startDemoStack, waitForPanel, withCheckedPage,
} from "./harness.mjs";

let stack;
let browser;
/** The span of the demo's events, as an absolute range with a few seconds either side. */
let demoRange;

before(async () => {
  stack = await startDemoStack({ trafficMs: Number(process.env.LOGFLEET_DEMO_TRAFFIC_MS ?? 30_000) });
  const response = await fetch(`${stack.apiUrl}/logs-*/_search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ size: 0, aggs: { first: { min: { field: "@timestamp" } }, last: { max: { field: "@timestamp" } } } }),
  });
  const { aggregations } = await response.json();
  demoRange = { from: new Date(aggregations.first.value - 2_000).toISOString(), to: new Date(aggregations.last.value + 2_000).toISOString() };
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const withPage = (options, body) => withCheckedPage(browser, options, body);

async function openExplorer(page, parameters = {}) {
  await page.goto(explorerUrl(stack.uiUrl, parameters));
  await waitForPanel(page, "Events", ["ready", "empty", "error"]);
  await waitForPanel(page, "Histogram", ["ready", "empty", "error"]);
}

const rowCount = (page) => page.locator("[data-panel=Events] tbody tr[data-row]").count();

async function totalShown(page) {
  const text = await page.getByTestId("hits-count").innerText();
  return Number(text.replace(/[^\d]/g, ""));
}

/** Waits for the Events panel to settle after an action that starts a new search. */
async function waitForSearch(page, predicate, argument) {
  await page.waitForFunction(predicate, argument, { timeout: 30_000 });
  await waitForPanel(page, "Events", ["ready", "empty", "error"]);
}

const urlParameter = (page, name) => new URL(page.url()).searchParams.get(name);

/** The table's columns, in order, as its header shows them. */
const headerColumns = (page) => page.locator("[data-panel=Events] thead th").evaluateAll((cells) => cells.map((cell) => cell.getAttribute("data-column")));

/** Waits until both the URL and the table's header list `expected`. */
async function waitForColumns(page, expected) {
  await page.waitForFunction((names) => {
    const header = [...document.querySelectorAll("[data-panel=Events] thead th")].map((cell) => cell.getAttribute("data-column"));
    return new URL(location.href).searchParams.getAll("column").join("\n") === names.join("\n") && header.join("\n") === names.join("\n");
  }, expected);
}

/** The shown texts of one column, row by row. */
async function columnTexts(page, column) {
  const position = (await headerColumns(page)).indexOf(column);
  assert.ok(position >= 0, `no column ${column}`);
  return page.locator(`[data-panel=Events] tbody tr[data-row] td:nth-child(${position + 1})`).allInnerTexts();
}

/** The histogram's legend: each series' name and count. */
async function legend(page) {
  return page.locator("[data-panel=Histogram] .legend-item").evaluateAll((items) => items.map((item) => ({
    name: [...item.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent).join(""),
    count: Number(item.querySelector(".legend-count")?.textContent?.replace(/[^\d]/g, "")),
  })));
}

const legendTotal = async (page) => (await legend(page)).reduce((sum, item) => sum + item.count, 0);

/** Every event in `logs-*` (all of them are less than an hour old). */
const allEvents = () => countMatching(stack.apiUrl, { match_all: {} });

/** Events matching `query` (Lucene, or everything) from `from` to `to` inclusive, as the server counts them. */
function countBetween(query, from, to) {
  return countMatching(stack.apiUrl, {
    bool: {
      must: query ? [{ query_string: { query, default_operator: "AND" } }] : [],
      filter: [{ range: { "@timestamp": { gte: new Date(from).toISOString(), lte: new Date(to).toISOString() } } }],
    },
  });
}

/** True when every neighbour pair is in order by `compare` (negative or zero: in order). */
function inOrder(values, compare) {
  return values.every((value, index) => index === 0 || compare(values[index - 1], value) <= 0);
}

/** `2026-11-26 10:00:00`: an instant as the time picker shows it in `timeZone`. */
function inZone(time, timeZone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(time)).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** A table time (`2026-11-26 10:00:00.000`, in whatever zone it shows) read as if it were UTC. */
const tableTime = (text) => Date.parse(`${text.trim().replace(" ", "T")}Z`);

describe("explorer", () => {
  test("loads with every panel ready and no console error, in light and dark", async () => {
    for (const colorScheme of ["light", "dark"]) {
      await withPage({ colorScheme }, async (page) => {
        // Over the demo's traffic, so the histogram spans it rather than the end of an hour.
        await openExplorer(page, demoRange);
        await waitForPanel(page, "Events");
        await waitForPanel(page, "Histogram");
        await waitForPanel(page, "Fields");
        const total = await countBetween("", demoRange.from, demoRange.to);
        // Enough for the paging tests to go four pages deep.
        assert.ok(total > 500, `the demo wrote ${total} events`);
        assert.equal(await totalShown(page), total);
        assert.equal(await rowCount(page), 100);
        for (const column of ["@timestamp", "level", "app_name", "message"]) {
          assert.equal(await page.locator(`th[data-column="${column}"]`).count(), 1, `column ${column}`);
        }
        assert.ok(await page.locator("[data-panel=Histogram] canvas").count() > 0, "the histogram draws");
        await screenshot(page, `explorer-${colorScheme}`);
      });
    }
  });

  test("a query narrows the table and the histogram, and stays in the URL", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      const query = "app_name:auth AND log_category:inter_service";
      const expected = await countMatching(stack.apiUrl, { query_string: { query, default_operator: "AND" } });
      assert.ok(expected > 0 && expected < await allEvents());
      await page.keyboard.press("/");
      await page.keyboard.type(query);
      await page.keyboard.press("Enter");
      await waitForSearch(page, (count) => document.querySelector("[data-testid=hits-count]")?.textContent?.replace(/[^\d]/g, "") === String(count), expected);
      const apps = await page.locator("[data-panel=Events] tbody tr[data-row] td:nth-child(3)").allInnerTexts();
      assert.ok(apps.length > 0 && apps.every((app) => app === "auth"), `apps: ${apps.join(",")}`);
      assert.equal(new URL(page.url()).searchParams.get("q"), query);
      // The URL reproduces the view.
      await page.reload();
      await waitForPanel(page, "Events");
      assert.equal(await totalShown(page), expected);
      assert.equal(await page.locator(".query-input").inputValue(), query);
    });
  });

  test("an invalid query shows the server's error next to the bar and keeps the query", async () => {
    await withPage({ allow: [/^console error: Failed to load resource: the server responded with a status of 400/] }, async (page) => {
      await openExplorer(page);
      await page.locator(".query-input").fill("level:(error OR");
      await page.keyboard.press("Enter");
      await waitForPanel(page, "Events", ["error"]);
      await page.getByTestId("query-error").waitFor();
      assert.match(await page.getByTestId("query-error").innerText(), /parse|query/i);
      assert.equal(await page.locator(".query-input").inputValue(), "level:(error OR");
    });
  });

  test("an empty range says so and widens on request", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { from: "now-10m", to: "now-5m", q: "app_name:auth AND level:critical AND status_code:500" });
      await waitForPanel(page, "Events", ["empty"]);
      await page.getByText("No events in this range — widen it").waitFor();
      await screenshot(page, "empty-range");
      await page.getByRole("button", { name: "Widen the time range" }).click();
      await page.waitForFunction(() => new URL(location.href).searchParams.get("from") !== "now-10m");
      await waitForPanel(page, "Events", ["ready", "empty"]);
    });
  });

  test("clicking a field value in the sidebar filters for it", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      await page.locator('[data-panel=Fields] [data-field="app_name"] .field-toggle').click();
      const details = page.locator('[data-panel=Fields] [data-field="app_name"] .field-details[data-state="ready"]');
      await details.waitFor();
      const value = (await details.locator(".bar-text").first().innerText()).trim();
      await details.locator(".bar-item").first().hover();
      await details.locator(".bar-item").first().getByRole("button", { name: "filter for" }).click();
      await waitForSearch(page, (expected) => new URL(location.href).searchParams.get("q") === expected, `app_name:"${value}"`);
      await waitForPanel(page, "Events");
      const apps = await page.locator("[data-panel=Events] tbody tr[data-row] td:nth-child(3)").allInnerTexts();
      assert.ok(apps.length > 0 && apps.every((app) => app === value), `apps: ${[...new Set(apps)].join(",")}`);
      const expected = await countMatching(stack.apiUrl, { term: { app_name: value } });
      assert.equal(await totalShown(page), expected);
    });
  });

  test("a row opens with its fields, its JSON and its context; keys move and close it", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "log_category:api_request" });
      await waitForPanel(page, "Events");
      const id = await page.locator('[data-row="3"]').getAttribute("data-id");
      await page.locator('[data-row="3"]').click();
      await waitForPanel(page, "Document");
      assert.equal(new URL(page.url()).searchParams.get("doc")?.endsWith(`/${id}`), true);
      await page.locator('[data-panel=Document] [data-field="endpoint_signature"]').waitFor();
      await screenshot(page, "document-view");

      await page.getByRole("tab", { name: "JSON" }).click();
      const json = await page.getByTestId("document-json").innerText();
      const parsed = JSON.parse(json);
      assert.equal(parsed._id, id);
      assert.equal(parsed._source.log_category, "api_request");

      await page.getByRole("tab", { name: "Context" }).click();
      await waitForPanel(page, "Context");
      const anchor = page.locator('[data-panel=Context] tr[data-context-row="anchor"]');
      assert.equal(await anchor.count(), 1);
      const around = await page.locator("[data-panel=Context] tr[data-context-row]").count();
      assert.ok(around >= 11, `context rows: ${around}`);
      // Every context event comes from the same app_name as the anchor.
      assert.match(await page.locator("[data-panel=Context] .hint").first().innerText(), /app_name/);
      await screenshot(page, "context-view");

      // j moves to the next event with the document open; Esc closes it.
      await page.locator("body").focus();
      await page.keyboard.press("j");
      const nextId = await page.locator('[data-row="4"]').getAttribute("data-id");
      await page.waitForFunction((expected) => new URL(location.href).searchParams.get("doc")?.endsWith(`/${expected}`), nextId);
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => !document.querySelector("[data-panel=Document]"));
      assert.equal(new URL(page.url()).searchParams.get("doc"), null);
      // Enter opens the selected row.
      await page.keyboard.press("Enter");
      await waitForPanel(page, "Document");
    });
  });

  test("pages past the first page with search_after, in order and without repeats", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      assert.match(await page.getByTestId("loaded-count").innerText(), new RegExp(`^100 of ${(await allEvents()).toLocaleString("en-US")} events`));
      for (const loaded of [200, 300]) {
        await page.getByRole("button", { name: "Load more" }).click();
        await page.locator(`[data-row="${loaded - 1}"]`).waitFor();
      }
      // Infinite scroll loads the next page as the end comes into view.
      await page.locator('[data-row="299"]').scrollIntoViewIfNeeded();
      await page.locator(".table-footer").scrollIntoViewIfNeeded();
      await page.locator('[data-row="399"]').waitFor();
      const ids = await page.locator("[data-panel=Events] tbody tr[data-row]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-id")));
      assert.equal(new Set(ids).size, ids.length, "no event twice");
      const times = await page.locator("[data-panel=Events] tbody tr[data-row] td:first-child").allInnerTexts();
      const sorted = [...times].sort().reverse();
      assert.deepEqual(times, sorted, "newest first across pages");
    });
  });

  test("hostile events render as text, run nothing and do not freeze the table", async () => {
    const megabyte = "A".repeat(1024 * 1024);
    const payloads = {
      script: "<script>window.__pwned = 'script'</script>",
      img: "<img src=x onerror=\"window.__pwned='img'\">",
      url: "javascript:window.__pwned='url'",
      svg: "<svg onload=\"window.__pwned='svg'\"><script>window.__pwned='svg-script'</script></svg>",
      entities: "&lt;b&gt;not bold&lt;/b&gt; &amp;amp; &#x3C;i&#x3E;",
      controls: "bell\u0007 escape\u001b[31mred\u001b[0m nul\u0000 end",
      rtl: "user \u202Egnp.exe\u202C file",
    };
    const hostile = {
      "@timestamp": new Date(Date.now() - 60_000).toISOString(),
      app_name: "xss-lab",
      level: "<b>error</b>",
      message: `${payloads.script} ${payloads.img} hostile marker`,
      url: payloads.url,
      svg: payloads.svg,
      entities: payloads.entities,
      controls: payloads.controls,
      rtl: payloads.rtl,
      huge: megabyte,
      "<img src=x onerror=\"window.__pwned='field'\">": "hostile field name",
      "\u202Eeman_dleif": "rtl field name",
    };
    await ingest(stack.apiUrl, [hostile, { ...hostile, "@timestamp": new Date(Date.now() - 90_000).toISOString(), message: "second hostile marker <iframe src=\"javascript:window.__pwned='iframe'\">" }], "hostile");
    await withPage({}, async (page, { dialogs }) => {
      await openExplorer(page, { index: "hostile", q: "hostile", column: ["@timestamp", "level", "message", "url", "huge"] });
      await waitForPanel(page, "Events");
      assert.equal(await rowCount(page), 2);
      const table = await page.locator("[data-panel=Events] table").innerText();
      assert.ok(table.includes(payloads.script), "the script tag shows as text");
      assert.ok(table.includes("<b>error</b>"));
      assert.ok(table.includes(payloads.url));
      // The megabyte cell is cut.
      const hugeCell = await page.locator('[data-row="0"] td:nth-child(5)').innerText();
      assert.ok(hugeCell.length < 5000 && hugeCell.endsWith("…"), `huge cell is ${hugeCell.length} characters`);

      await page.locator('[data-row="0"]').click();
      await waitForPanel(page, "Document");
      const fields = await page.locator("[data-panel=Document] .fields-table").innerText();
      for (const name of ["svg", "entities", "url"]) assert.ok(fields.includes(payloads[name]), `${name} shows as text`);
      assert.ok(fields.includes("<img src=x onerror=\"window.__pwned='field'\">"), "the hostile field name shows as text");
      assert.ok(fields.includes("\u2407"), "a bell shows as its control picture");
      await page.getByRole("button", { name: /Show all 1,048,576 characters/ }).click();
      await page.getByRole("tab", { name: "JSON" }).click();
      assert.ok((await page.getByTestId("document-json").innerText()).includes("window.__pwned"));
      await page.getByRole("tab", { name: "Context" }).click();
      await waitForPanel(page, "Context", ["ready", "empty"]);
      // Sidebar with the hostile field names.
      await page.locator("[data-panel=Fields] .field-name", { hasText: "onerror" }).first().waitFor();

      assert.equal(await page.evaluate(() => window.__pwned), undefined, "no payload ran");
      assert.equal(await page.locator("[data-panel] img, [data-panel] iframe, [data-panel] script").count(), 0, "no element came from the data");
      assert.deepEqual(dialogs, []);
    });
  });

  test("live tail shows an event ingested after it started; pausing buffers it", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "message:tailmarker*" });
      await page.getByTestId("live-tail").click();
      await page.getByTestId("tail-banner").waitFor();
      await ingest(stack.apiUrl, [{ "@timestamp": new Date().toISOString(), log_category: "audit", level: "info", app_name: "auth", message: "tailmarker first" }]);
      await page.locator("[data-panel=Events] tbody tr", { hasText: "tailmarker first" }).waitFor({ timeout: 15_000 });
      await page.getByTestId("live-pause").click();
      await ingest(stack.apiUrl, [{ "@timestamp": new Date().toISOString(), log_category: "audit", level: "info", app_name: "auth", message: "tailmarker second" }]);
      await page.getByRole("button", { name: /Show 1 new events/ }).waitFor({ timeout: 15_000 });
      assert.equal(await page.locator("[data-panel=Events] tbody tr", { hasText: "tailmarker second" }).count(), 0);
      await page.getByRole("button", { name: /Show 1 new events/ }).click();
      await page.locator("[data-panel=Events] tbody tr", { hasText: "tailmarker second" }).waitFor();
      await page.getByTestId("live-stop").click();
    });
  });

  test("live tail says when the server skipped events or the connection dropped, and searches for the gap", async () => {
    const event = (message) => ({ "@timestamp": new Date().toISOString(), log_category: "audit", level: "info", app_name: "auth", message });
    const row = (page, text) => page.locator("[data-panel=Events] tbody tr", { hasText: text });
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "message:gapmarker*" });
      // The first stream is held, then answers only that the server skipped three batches
      // for this subscriber, and ends; the tail reconnects to the real one.
      let release;
      const held = new Promise((resolve) => { release = resolve; });
      let streams = 0;
      await page.route((url) => url.pathname.endsWith("/_logfleet/tail"), async (route) => {
        streams += 1;
        if (streams > 1) return route.continue();
        await held;
        return route.fulfill({ status: 200, headers: { "content-type": "text/event-stream" }, body: 'event: missed\ndata: {"missed_batches":3}\n\n' });
      });
      await page.getByTestId("live-tail").click();
      await page.getByTestId("tail-banner").waitFor();
      await ingest(stack.apiUrl, [event("gapmarker skipped")]);
      release();
      const gap = page.getByTestId("tail-gap");
      await gap.and(page.locator("[data-state=ready]")).filter({ hasText: "skipped 3 batches of writes" }).waitFor({ timeout: 15_000 });
      assert.match(await gap.innerText(), /A search found 1 event of the gap/);
      await row(page, "gapmarker skipped").waitFor();
      await screenshot(page, "live-tail-gap");

      // Written while the tail is disconnected (it reconnects after a few seconds): the search
      // after the reconnection brings it.
      await ingest(stack.apiUrl, [event("gapmarker while away")]);
      await gap.filter({ hasText: "lost its connection and reconnected" }).and(page.locator("[data-state=ready]")).waitFor({ timeout: 15_000 });
      await row(page, "gapmarker while away").waitFor();
      assert.equal(streams, 2);

      // The new stream goes on; nothing is shown twice.
      await ingest(stack.apiUrl, [event("gapmarker live")]);
      await row(page, "gapmarker live").waitFor({ timeout: 15_000 });
      const messages = await page.locator("[data-panel=Events] tbody tr[data-row]").allInnerTexts();
      assert.equal(messages.length, 3, messages.join("\n"));
      await gap.getByRole("button", { name: "Dismiss" }).click();
      await gap.waitFor({ state: "detached" });
      await page.getByTestId("live-stop").click();
    });
  });

  test("export downloads every matching event", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "log_category:audit" });
      await waitForPanel(page, "Events");
      const expected = await totalShown(page);
      await page.getByTestId("export").click();
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: /Export CSV/ }).click(),
      ]);
      const text = await readFile(await download.path(), "utf8");
      const lines = text.trimEnd().split(/\r?\n/);
      assert.deepEqual(lines[0].split(","), ["@timestamp", "level", "app_name", "message"]);
      assert.equal(lines.length - 1, expected);
      await page.getByTestId("export-done").waitFor();
    });
  });

  test("an export counts rows, not the line breaks inside its values", async () => {
    const marker = `multiline${Date.now()}`;
    await ingest(stack.apiUrl, [
      { "@timestamp": new Date().toISOString(), log_category: "audit", level: "error", app_name: "auth", message: `${marker} first line\nsecond line\r\nthird "quoted" line` },
      { "@timestamp": new Date().toISOString(), log_category: "audit", level: "error", app_name: "auth", message: `${marker} single line` },
    ]);
    await withPage({}, async (page) => {
      await openExplorer(page, { q: `message:${marker}` });
      await waitForPanel(page, "Events");
      await page.getByTestId("export").click();
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: /Export CSV/ }).click(),
      ]);
      await page.getByTestId("export-done").waitFor();
      assert.match(await page.getByTestId("export-done").innerText(), /Saved 2 rows/);
      const text = await readFile(await download.path(), "utf8");
      assert.ok(text.includes('second line\r\nthird ""quoted"" line"'), text);
    });
  });

  test("a search is saved, listed and opened again", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "level:warning" });
      await page.getByTestId("saved-searches").click();
      await page.getByLabel("Saved search name").fill("Warnings");
      await page.getByRole("button", { name: "Save new" }).click();
      await page.locator(".saved-item", { hasText: "Warnings" }).waitFor();
      await page.goto(explorerUrl(stack.uiUrl));
      await waitForPanel(page, "Events");
      await page.getByTestId("saved-searches").click();
      await page.locator(".saved-item .menu-item", { hasText: "Warnings" }).click();
      await page.waitForFunction(() => new URL(location.href).searchParams.get("q") === "level:warning");
    });
  });
});

describe("explorer columns", () => {
  test("columns are added from the sidebar, removed, moved and resized; a reload keeps them", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, demoRange);
      await waitForPanel(page, "Events");
      await waitForPanel(page, "Fields");
      assert.deepEqual(await headerColumns(page), ["@timestamp", "level", "app_name", "message"]);
      assert.deepEqual(new URL(page.url()).searchParams.getAll("column"), [], "the default columns are not written out");

      // The sidebar's + (shown on hover) adds a column at the end.
      const field = page.locator('[data-panel=Fields] [data-field="status_code"]');
      await field.locator(".field-line").hover();
      await field.getByRole("button", { name: "Add column status_code" }).click();
      await waitForColumns(page, ["@timestamp", "level", "app_name", "message", "status_code"]);
      const codes = await columnTexts(page, "status_code");
      assert.ok(codes.some((code) => /^\d{3}$/.test(code)) && codes.every((code) => /^(\d{3}|—)$/.test(code)), `status codes: ${[...new Set(codes)].join(",")}`);
      await page.locator('[data-panel=Fields] .section-title', { hasText: "Selected fields" }).waitFor();

      // The header's buttons (shown on hover) remove and move a column.
      await page.locator('th[data-column="level"]').hover();
      await page.locator('th[data-column="level"]').getByRole("button", { name: "Remove column level" }).click();
      await waitForColumns(page, ["@timestamp", "app_name", "message", "status_code"]);
      await page.locator('th[data-column="status_code"]').hover();
      await page.locator('th[data-column="status_code"]').getByRole("button", { name: "Move status_code left" }).click();
      await waitForColumns(page, ["@timestamp", "app_name", "status_code", "message"]);
      // Dragging a header onto another puts it in that one's place.
      await page.locator('th[data-column="message"]').dragTo(page.locator('th[data-column="app_name"]'));
      await waitForColumns(page, ["@timestamp", "message", "app_name", "status_code"]);

      // Dragging a header's right edge resizes the column, and does not move it.
      const header = page.locator('th[data-column="app_name"]');
      const before = (await header.boundingBox()).width;
      const handle = await header.getByRole("separator", { name: "Resize app_name" }).boundingBox();
      const y = handle.y + handle.height / 2;
      await page.mouse.move(handle.x + handle.width / 2, y);
      await page.mouse.down();
      await page.mouse.move(handle.x + handle.width / 2 + 60, y, { steps: 5 });
      await page.mouse.move(handle.x + handle.width / 2 + 120, y, { steps: 5 });
      await page.mouse.up();
      const after = (await header.boundingBox()).width;
      assert.ok(Math.abs(after - (before + 120)) <= 2, `app_name was ${before}px wide, is ${after}px after a 120px drag`);
      await waitForColumns(page, ["@timestamp", "message", "app_name", "status_code"]);
      assert.equal(await page.locator("[data-panel=Document]").count(), 0, "the drag opened no event");
      await screenshot(page, "columns");

      // The URL reproduces the columns; this browser remembers the width.
      await page.reload();
      await waitForPanel(page, "Events");
      assert.deepEqual(await headerColumns(page), ["@timestamp", "message", "app_name", "status_code"]);
      const reloaded = (await page.locator('th[data-column="app_name"]').boundingBox()).width;
      assert.ok(Math.abs(reloaded - after) <= 1, `app_name is ${reloaded}px wide after a reload, was ${after}px`);

      // The last column takes the width left over: it has no edge to drag, and however wide the
      // others get it keeps room to read (the table scrolls sideways instead).
      assert.equal(await page.locator('th[data-column="status_code"] [role=separator]').count(), 0);
      const edge = await page.locator('th[data-column="message"]').getByRole("separator", { name: "Resize message" }).boundingBox();
      await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2);
      await page.mouse.down();
      await page.mouse.move(edge.x + edge.width / 2 + 1500, edge.y + edge.height / 2, { steps: 10 });
      await page.mouse.up();
      const last = (await page.locator('th[data-column="status_code"]').boundingBox()).width;
      assert.ok(last >= 150, `the last column is ${last}px wide`);
      const scroll = await page.locator("[data-panel=Events] .table-scroll").evaluate((element) => ({ client: element.clientWidth, content: element.scrollWidth }));
      assert.ok(scroll.content > scroll.client, "the table scrolls sideways");
    });
  });

  test("wrapping lines lets a long message grow its row, and is remembered", async () => {
    // Longer than a cell shows unwrapped (400 characters), so the marker comes first.
    const long = `wrapmarker ${Array.from({ length: 80 }, (_, index) => `word${index}`).join(" ")}`;
    const now = Date.now();
    await ingest(stack.apiUrl, [
      { "@timestamp": new Date(now - 60_000).toISOString(), level: "info", app_name: "wrap-lab", message: long },
      { "@timestamp": new Date(now - 120_000).toISOString(), level: "info", app_name: "wrap-lab", message: "short" },
    ], "wrap-lab");
    await withPage({}, async (page) => {
      await openExplorer(page, { index: "wrap-lab" });
      await waitForPanel(page, "Events");
      const longRow = page.locator("[data-panel=Events] tbody tr[data-row]", { hasText: "wrapmarker" });
      const shortRow = page.locator("[data-panel=Events] tbody tr[data-row]", { hasText: "short" });
      const height = async (row) => (await row.boundingBox()).height;
      const single = await height(shortRow);
      assert.ok(Math.abs((await height(longRow)) - single) <= 1, "unwrapped, a long message takes one line");
      const wrap = page.getByRole("button", { name: "Wrap lines" });
      assert.equal(await wrap.getAttribute("aria-pressed"), "false");
      await wrap.click();
      await page.waitForFunction(() => document.querySelector("[data-panel=Events] table")?.classList.contains("wrap"));
      const wrapped = await height(longRow);
      assert.ok(wrapped > single * 2, `the wrapped row is ${wrapped}px high, one line is ${single}px`);
      assert.ok(Math.abs((await height(shortRow)) - single) <= 1, "a short message still takes one line");
      await screenshot(page, "wrapped-lines");

      await page.reload();
      await waitForPanel(page, "Events");
      assert.equal(await page.getByRole("button", { name: "Wrap lines" }).getAttribute("aria-pressed"), "true");
      assert.ok(Math.abs((await height(longRow)) - wrapped) <= 1, "still wrapped after a reload");
      await page.getByRole("button", { name: "Wrap lines" }).click();
      await page.waitForFunction(() => !document.querySelector("[data-panel=Events] table")?.classList.contains("wrap"));
      assert.ok(Math.abs((await height(longRow)) - single) <= 1, "unwrapped again");
    });
  });
});

describe("explorer sorting", () => {
  test("a column sorts both ways across pages, and time sorts again", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { ...demoRange, column: ["@timestamp", "level", "app_name", "status_code", "message"] });
      await waitForPanel(page, "Events");
      const sortBy = async (column, expected) => {
        await page.locator(`th[data-column="${column}"] .th-name`).click();
        await waitForSearch(page, (value) => (new URL(location.href).searchParams.get("sort") ?? "") === value, expected);
        await waitForPanel(page, "Events");
      };
      const rowsOf = async () => {
        const codes = (await columnTexts(page, "status_code")).map(Number);
        const times = (await columnTexts(page, "@timestamp")).map(tableTime);
        return codes.map((code, index) => ({ code, time: times[index] }));
      };
      // Equal keys read newest first.
      const byCode = (order) => (a, b) => (order === "asc" ? a.code - b.code : b.code - a.code) || b.time - a.time;

      await sortBy("status_code", "status_code:desc");
      assert.equal(await page.locator('th[data-column="status_code"]').getAttribute("aria-sort"), "descending");
      assert.equal(await page.locator('th[data-column="@timestamp"]').getAttribute("aria-sort"), null);
      await page.getByRole("button", { name: "Load more" }).click();
      await page.locator('[data-row="199"]').waitFor();
      let rows = await rowsOf();
      assert.ok(rows.every((row) => Number.isInteger(row.code)), "the first pages all have a status code");
      assert.ok(rows[0].code >= 500, `the highest code comes first, not ${rows[0].code}`);
      assert.ok(inOrder(rows, byCode("desc")), "descending across two pages");
      const ids = await page.locator("[data-panel=Events] tbody tr[data-row]").evaluateAll((cells) => cells.map((cell) => cell.getAttribute("data-id")));
      assert.equal(new Set(ids).size, ids.length, "no event twice");

      await sortBy("status_code", "status_code:asc");
      assert.equal(await page.locator('th[data-column="status_code"]').getAttribute("aria-sort"), "ascending");
      rows = await rowsOf();
      assert.ok(rows[0].code < 300, `the lowest code comes first, not ${rows[0].code}`);
      assert.ok(inOrder(rows, byCode("asc")), "ascending");
      await page.reload();
      await waitForPanel(page, "Events");
      assert.equal(await page.locator('th[data-column="status_code"]').getAttribute("aria-sort"), "ascending", "the URL keeps the sort");
      assert.ok(inOrder(await rowsOf(), byCode("asc")), "ascending after a reload");

      await sortBy("app_name", "app_name:desc");
      const apps = await columnTexts(page, "app_name");
      assert.ok(apps[0] === "user_service" && inOrder(apps, (a, b) => (a < b ? 1 : a > b ? -1 : 0)), `apps: ${[...new Set(apps)].join(",")}`);

      // Time, descending, is the default: the URL no longer names a sort.
      await sortBy("@timestamp", "");
      assert.equal(await page.locator('th[data-column="@timestamp"]').getAttribute("aria-sort"), "descending");
      const times = (await columnTexts(page, "@timestamp")).map(tableTime);
      assert.ok(inOrder(times, (a, b) => b - a), "newest first");
      await screenshot(page, "sorted");
    });
  });
});

describe("explorer time", () => {
  test("switching between UTC and the browser's zone changes the shown times", async () => {
    await withPage({ timezoneId: "Europe/Paris" }, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      const id = await page.locator('[data-row="0"]').getAttribute("data-id");
      const timeOf = () => page.locator(`[data-panel=Events] tr[data-id="${id}"] td.cell-time`).innerText();
      const local = await timeOf();
      assert.equal(await page.locator(".time-button .zone-badge").count(), 0, "the browser's zone is the default");

      await page.getByTestId("time-picker").click();
      assert.equal(await page.getByRole("radio", { name: "Browser (Europe/Paris)" }).getAttribute("aria-checked"), "true");
      await page.getByRole("radio", { name: "UTC" }).click();
      await page.locator(".time-button .zone-badge", { hasText: "UTC" }).waitFor();
      await page.waitForFunction((before) => document.querySelector(".cell-time")?.textContent !== before, local);
      await waitForPanel(page, "Events");
      const utc = await timeOf();
      const offsetMinutes = await page.evaluate((time) => -new Date(time).getTimezoneOffset(), tableTime(utc));
      assert.notEqual(offsetMinutes, 0);
      assert.equal(tableTime(local) - tableTime(utc), offsetMinutes * 60_000, `${local} in Paris is ${utc} UTC`);
      await page.keyboard.press("Escape");

      // The choice is this browser's: a reload keeps it.
      await page.reload();
      await waitForPanel(page, "Events");
      await page.locator(".time-button .zone-badge", { hasText: "UTC" }).waitFor();
      assert.equal(await timeOf(), utc);
      await page.getByTestId("time-picker").click();
      await page.getByRole("radio", { name: "Browser (Europe/Paris)" }).click();
      await page.locator(".time-button .zone-badge").waitFor({ state: "detached" });
      await page.waitForFunction((expected) => document.querySelector(".cell-time")?.textContent !== expected, utc);
      await waitForPanel(page, "Events");
      assert.equal(await timeOf(), local);
    });
  });

  test("a quick range and an absolute range change the count and the histogram", async () => {
    await withPage({ timezoneId: "Europe/Paris" }, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      await waitForPanel(page, "Histogram");
      const hour = await totalShown(page);
      const note = () => page.locator("[data-panel=Histogram] .panel-note").innerText();
      assert.equal(await note(), "per 30 seconds");

      await page.getByTestId("time-picker").click();
      const started = Date.now();
      await page.getByRole("button", { name: "Last 15 minutes" }).click();
      await waitForSearch(page, () => new URL(location.href).searchParams.get("from") === "now-15m");
      await waitForPanel(page, "Histogram");
      const ended = Date.now();
      const quarter = await totalShown(page);
      // `now` was read between `started` and `ended`.
      const fewest = await countBetween("", ended - 15 * 60_000, started);
      const most = await countBetween("", started - 15 * 60_000, ended);
      assert.ok(quarter >= fewest && quarter <= most && quarter <= hour, `${quarter} events in the last 15 minutes (${fewest} to ${most}), ${hour} in the hour`);
      assert.equal(await note(), "per 10 seconds");
      assert.equal(await legendTotal(page), quarter, "the histogram counts the same events");
      assert.equal(await page.locator(".time-label").innerText(), "Last 15 minutes");

      // An absolute range is typed in the chosen zone (here the browser's, Paris) and kept in
      // the URL as instants: switching the zone, or opening the link elsewhere, keeps its events.
      // It ends halfway through the demo's traffic, so it holds some of its events but not all.
      const minute = 60_000;
      const to = Math.floor((Date.parse(demoRange.from) + Date.parse(demoRange.to)) / 2 / 1000) * 1000;
      const from = to - 20 * minute;
      await page.getByTestId("time-picker").click();
      await page.getByLabel("From", { exact: true }).fill(inZone(from, "Europe/Paris"));
      await page.getByLabel("To", { exact: true }).fill(inZone(to, "Europe/Paris"));
      await page.getByRole("button", { name: "Apply" }).click();
      await waitForSearch(page, (expected) => new URL(location.href).searchParams.get("from") === expected, new Date(from).toISOString());
      await waitForPanel(page, "Histogram");
      assert.equal(urlParameter(page, "to"), new Date(to).toISOString());
      const expected = await countBetween("", from, to);
      assert.ok(expected > 0 && expected < quarter, `${expected} events in the range, ${quarter} in the last 15 minutes`);
      assert.equal(await totalShown(page), expected);
      assert.equal(await legendTotal(page), expected);
      assert.equal(await note(), "per 10 seconds");
      assert.equal(await page.locator(".time-label").innerText(), `${inZone(from, "Europe/Paris")} → ${inZone(to, "Europe/Paris")}`);

      await page.getByTestId("time-picker").click();
      await page.getByRole("radio", { name: "UTC" }).click();
      await page.keyboard.press("Escape");
      await page.locator(".time-label", { hasText: `${inZone(from, "UTC")} → ${inZone(to, "UTC")}` }).waitFor();
      await waitForPanel(page, "Events");
      await waitForPanel(page, "Histogram");
      assert.equal(urlParameter(page, "from"), new Date(from).toISOString());
      assert.equal(await totalShown(page), expected, "the same events in UTC");
      const times = (await columnTexts(page, "@timestamp")).map(tableTime);
      assert.ok(times.every((time) => time >= from && time <= to), "every event is in the range");
      await page.getByTestId("time-picker").click();
      assert.equal(await page.getByLabel("From", { exact: true }).inputValue(), inZone(from, "UTC"), "the editor shows the range in the chosen zone");
    });
  });

  test("dragging across the histogram zooms into that span", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, demoRange);
      await waitForPanel(page, "Events");
      await waitForPanel(page, "Histogram");
      const before = await totalShown(page);
      const plot = await page.locator("[data-panel=Histogram] .u-over").boundingBox();
      const y = plot.y + plot.height / 2;
      await page.mouse.move(plot.x + plot.width * 0.3, y);
      await page.mouse.down();
      await page.mouse.move(plot.x + plot.width * 0.45, y, { steps: 5 });
      await page.mouse.move(plot.x + plot.width * 0.6, y, { steps: 5 });
      await page.mouse.up();
      await waitForSearch(page, (before) => new URL(location.href).searchParams.get("from") !== before, demoRange.from);
      await waitForPanel(page, "Histogram");
      const from = Date.parse(urlParameter(page, "from"));
      const to = Date.parse(urlParameter(page, "to"));
      assert.ok(Number.isFinite(from) && Number.isFinite(to), `absolute times: ${urlParameter(page, "from")} to ${urlParameter(page, "to")}`);
      // 30% of the demo's span (the chart shows its last bucket whole).
      const span = Date.parse(demoRange.to) - Date.parse(demoRange.from);
      assert.ok(Date.parse(demoRange.from) < from && to < Date.parse(demoRange.to), "inside the range it was");
      assert.ok((to - from) / span > 0.25 && (to - from) / span < 0.36, `zoomed to ${(to - from) / 1000} of ${span / 1000} seconds`);
      const zoomed = await totalShown(page);
      assert.ok(zoomed > 0 && zoomed < before, `${zoomed} of ${before} events`);
      assert.equal(zoomed, await countBetween("", from, to));
      assert.equal(await legendTotal(page), zoomed);
      assert.match(await page.locator("[data-panel=Histogram] .panel-note").innerText(), /^per \d+ seconds?$/);
      // A zoom is a step in the history: Back returns to the range before it.
      await page.goBack();
      await waitForSearch(page, (before) => new URL(location.href).searchParams.get("from") === before, demoRange.from);
      await waitForPanel(page, "Events");
      assert.ok(await totalShown(page) > zoomed);
    });
  });
});

describe("explorer histogram", () => {
  test("stacking by another field changes the legend, and the URL keeps it", async () => {
    // The demo's three services, and "other" if some events name none.
    const unnamed = { bool: { must_not: [{ exists: { field: "app_name" } }] } };
    const apps = ["access_postgresql", "auth", ...(await countMatching(stack.apiUrl, unnamed) > 0 ? ["other"] : []), "user_service"];
    await withPage({}, async (page) => {
      await openExplorer(page, demoRange);
      await waitForPanel(page, "Events");
      await waitForPanel(page, "Histogram");
      const total = await totalShown(page);
      const names = async () => (await legend(page)).map((item) => item.name);
      const levels = await names();
      assert.ok(levels.length >= 2, `legend: ${levels.join(",")}`);
      assert.deepEqual(levels, ["critical", "error", "warning", "info", "debug"].filter((level) => levels.includes(level)), "levels in severity order");
      assert.equal(await legendTotal(page), total);

      await page.getByLabel("Stack by").selectOption("app_name");
      await page.waitForFunction(() => new URL(location.href).searchParams.get("stack") === "app_name");
      await page.waitForFunction(() => [...document.querySelectorAll("[data-panel=Histogram] .legend-item")].some((item) => item.textContent.startsWith("user_service")));
      await waitForPanel(page, "Histogram");
      assert.deepEqual((await names()).sort(), apps);
      assert.equal(await legendTotal(page), total);
      const inRange = { range: { "@timestamp": { gte: demoRange.from, lte: demoRange.to } } };
      for (const item of await legend(page)) {
        const query = item.name === "other" ? { bool: { ...unnamed.bool, filter: [inRange] } } : { bool: { filter: [inRange, { term: { app_name: item.name } }] } };
        assert.equal(item.count, await countMatching(stack.apiUrl, query), `${item.name}'s count`);
      }
      await screenshot(page, "histogram-stacked");

      await page.reload();
      await waitForPanel(page, "Histogram");
      assert.equal(await page.getByLabel("Stack by").inputValue(), "app_name");
      assert.deepEqual((await names()).sort(), apps);

      await page.getByLabel("Stack by").selectOption("");
      await page.waitForFunction(() => document.querySelectorAll("[data-panel=Histogram] .legend-item").length === 1);
      await waitForPanel(page, "Histogram");
      assert.deepEqual(await legend(page), [{ name: "events", count: total }]);
    });
  });

  test("the histogram collapses, and stays collapsed after a reload", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Histogram");
      const total = await totalShown(page);
      const chartHeight = (await page.locator("[data-panel=Histogram]").boundingBox()).height;
      await page.getByRole("button", { name: "Collapse the histogram" }).click();
      await page.locator("[data-panel=Histogram] canvas").first().waitFor({ state: "detached" });
      assert.equal(await page.locator("[data-panel=Histogram] .histogram-body").count(), 0);
      assert.ok((await page.locator("[data-panel=Histogram]").boundingBox()).height < chartHeight / 2, "the panel shrinks to its header");
      assert.equal(await totalShown(page), total, "the count stays");

      await page.reload();
      await waitForPanel(page, "Events");
      await page.getByRole("button", { name: "Expand the histogram" }).waitFor();
      assert.equal(await page.locator("[data-panel=Histogram] canvas").count(), 0);
      await page.getByRole("button", { name: "Expand the histogram" }).click();
      await page.locator("[data-panel=Histogram] canvas").first().waitFor();
      await waitForPanel(page, "Histogram");
      assert.equal(await legendTotal(page), total);
    });
  });
});

describe("explorer field sidebar", () => {
  test("visualize shows a keyword field's top values and a number field's distribution", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, demoRange);
      await waitForPanel(page, "Fields");
      await waitForPanel(page, "Events");
      const visualize = async (name) => {
        const row = page.locator(`[data-panel=Fields] [data-field="${name}"]`);
        await row.locator(".field-toggle").click();
        await row.getByRole("button", { name: "Visualize" }).click();
        await waitForPanel(page, `Visualize ${name}`);
        return page.locator(`[data-panel="Visualize ${name}"]`);
      };

      const keyword = await visualize("app_name");
      const items = await keyword.locator(".bar-item").evaluateAll((elements) => elements.map((element) => ({
        label: element.querySelector(".bar-text")?.textContent,
        count: Number(element.querySelector(".bar-count")?.textContent?.split("·")[0]?.replace(/[^\d]/g, "")),
      })));
      assert.deepEqual(items.map((item) => item.label).sort(), ["access_postgresql", "auth", "user_service"]);
      assert.ok(inOrder(items, (a, b) => b.count - a.count), "commonest first");
      for (const item of items) assert.equal(item.count, await countBetween(`app_name:${item.label}`, demoRange.from, demoRange.to), `${item.label}'s count`);
      assert.match(await keyword.locator(".panel-note").innerText(), /Top 20 values of app_name over all [\d,]+ matching events/);

      const number = await visualize("duration_ms");
      assert.equal(await page.locator('[data-panel="Visualize app_name"]').count(), 0, "one field at a time");
      assert.match(await number.locator(".panel-note").innerText(), /Minimum, average and maximum of duration_ms per/);
      assert.ok(await number.locator("canvas").count() > 0, "the distribution is drawn");
      const series = await number.locator(".u-legend .u-series .u-label").allInnerTexts();
      assert.deepEqual(series.filter((label) => ["max", "avg", "min"].includes(label)), ["max", "avg", "min"]);
      await screenshot(page, "visualize-number");
      await number.getByRole("button", { name: "Close the visualization" }).click();
      await number.waitFor({ state: "detached" });
    });
  });

  test("each field's share counts every matching event, not only the loaded ones, and the header says so", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "app_name:user_service" });
      await waitForPanel(page, "Events");
      await waitForPanel(page, "Fields");
      const total = await totalShown(page);
      assert.ok(total > 100, "more events match than are loaded");
      const basis = page.getByTestId("fields-share-basis");
      await basis.and(page.locator('[data-share-of="result"]')).waitFor();
      // (textContent: the header is set in capitals by its style.)
      assert.match(await basis.textContent(), new RegExp(`^Fields · share of all ${total.toLocaleString("en-US")} matching events`));
      // user_service writes api_request, inter_service and performance events: status_code is
      // in some of them only.
      for (const field of ["status_code", "log_category", "cpu_percent"]) {
        const share = page.locator(`[data-panel=Fields] [data-field="${field}"] .field-share`);
        if (await share.count() === 0) continue;
        const have = await countMatching(stack.apiUrl, { bool: { filter: [{ term: { app_name: "user_service" } }, { exists: { field } }] } });
        assert.equal(await share.getAttribute("data-share-of"), "result", field);
        assert.equal(await share.getAttribute("title"), `${have.toLocaleString("en-US")} of all ${total.toLocaleString("en-US")} matching events have this field`);
        const percent = have / total;
        assert.equal(await share.innerText(), percent < 0.001 ? "<0.1%" : `${(percent * 100).toFixed(percent < 0.1 ? 1 : 0)}%`, field);
      }
      assert.equal(await page.locator('[data-panel=Fields] [data-field="status_code"] .field-share').count(), 1);

      // In a live tail the shares are of the events on screen, and the header says that instead.
      await page.getByTestId("live-tail").click();
      await basis.and(page.locator('[data-share-of="loaded"]')).waitFor();
      assert.match(await basis.textContent(), /^Fields in 100 loaded events/);
      await page.getByTestId("live-stop").click();
      await basis.and(page.locator('[data-share-of="result"]')).waitFor();
      await screenshot(page, "field-shares");
    });
  });

  test("filtering a value out from the sidebar excludes it", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Fields");
      await page.locator('[data-panel=Fields] [data-field="level"] .field-toggle').click();
      const details = page.locator('[data-panel=Fields] [data-field="level"] .field-details[data-state="ready"]');
      const info = details.locator(".bar-item").filter({ has: page.locator(".bar-text", { hasText: /^info$/ }) });
      await info.hover();
      await info.getByRole("button", { name: "filter out" }).click();
      await waitForSearch(page, () => new URL(location.href).searchParams.get("q") === '-level:"info"');
      await waitForPanel(page, "Events");
      const levels = await columnTexts(page, "level");
      assert.ok(levels.length > 0 && !levels.includes("info"), `levels: ${[...new Set(levels)].join(",")}`);
      assert.equal(await totalShown(page), await countMatching(stack.apiUrl, { bool: { must_not: [{ term: { level: "info" } }] } }));
      // The sidebar's top values follow the query.
      await page.waitForFunction(() => {
        const shown = document.querySelector('[data-panel=Fields] [data-field="level"] .field-details[data-state="ready"]');
        return shown && ![...shown.querySelectorAll(".bar-text")].some((text) => text.textContent === "info");
      });
    });
  });
});

describe("explorer query bar", () => {
  test("/ focuses the query; field and value completions are chosen with the keyboard", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      await page.keyboard.press("/");
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("query-input")), true, "/ focuses the query");
      const options = page.locator("#query-suggestions [role=option]");
      const optionTexts = () => options.locator(".suggestion-text").allInnerTexts();

      // Field names come from _field_caps, with their types.
      await page.keyboard.type("app_n");
      await options.filter({ has: page.locator(".suggestion-text", { hasText: /^app_name$/ }) }).waitFor();
      // The field itself first, then those that hold it (the alerts' alert.group.app_name).
      const offered = await optionTexts();
      assert.equal(offered[0], "app_name");
      assert.ok(offered.every((text) => text.includes("app_n")), `offered: ${offered.join(",")}`);
      assert.equal(await options.first().locator(".suggestion-detail").innerText(), "keyword");
      await page.keyboard.press("ArrowDown");
      assert.equal(await options.first().getAttribute("aria-selected"), "true");
      // Hold back the look-up of the field's values: until they come, nothing is offered.
      let release;
      const held = new Promise((resolve) => { release = resolve; });
      await page.route("**/_search", async (route) => {
        if ((route.request().postData() ?? "").includes('"size":50')) await held;
        await route.continue();
      });
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector(".query-input")?.value === "app_name:");
      assert.equal(await options.count(), 0, "the field list is gone while its values load");
      release();

      // After `field:`, its values (a terms aggregation over the range).
      await options.filter({ hasText: "user_service" }).waitFor();
      await page.unroute("**/_search");
      assert.deepEqual((await optionTexts()).sort(), ["access_postgresql", "auth", "user_service"]);
      await page.keyboard.type("us");
      await page.waitForFunction(() => [...document.querySelectorAll("#query-suggestions .suggestion-text")].map((text) => text.textContent).join() === "user_service");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector(".query-input")?.value === 'app_name:"user_service" ');
      assert.equal(await options.count(), 0, "choosing a value closes the list");
      await page.keyboard.press("Enter");
      await waitForSearch(page, () => new URL(location.href).searchParams.get("q")?.trim() === 'app_name:"user_service"');
      await waitForPanel(page, "Events");
      const apps = await columnTexts(page, "app_name");
      assert.ok(apps.length > 0 && apps.every((app) => app === "user_service"));
      assert.equal(await totalShown(page), await countMatching(stack.apiUrl, { term: { app_name: "user_service" } }));
    });
  });

  test("the arrow keys walk the recent queries", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      const input = page.locator(".query-input");
      for (const query of ["level:error", "level:warning"]) {
        await input.fill(query);
        await input.press("Enter");
        await waitForSearch(page, (expected) => new URL(location.href).searchParams.get("q") === expected, query);
      }
      // Up goes back from the query on screen to the one before it, Down comes forward again.
      await input.press("ArrowUp");
      assert.equal(await input.inputValue(), "level:error");
      await input.press("ArrowUp");
      assert.equal(await input.inputValue(), "level:error", "nothing older");
      await input.press("ArrowDown");
      assert.equal(await input.inputValue(), "level:warning");
      await input.press("ArrowUp");
      await input.press("Enter");
      await waitForSearch(page, () => new URL(location.href).searchParams.get("q") === "level:error");

      // An empty query lists them, newest first, to pick with the arrows too.
      await input.fill("");
      const options = page.locator("#query-suggestions [role=option]");
      await options.first().waitFor();
      assert.deepEqual(await options.locator(".suggestion-text").allInnerTexts(), ["level:error", "level:warning"]);
      await input.press("ArrowDown");
      await input.press("ArrowDown");
      await input.press("Enter");
      await waitForSearch(page, () => new URL(location.href).searchParams.get("q") === "level:warning");
      assert.equal(await input.inputValue(), "level:warning");
    });
  });

  test("a query error points at the line and column the server gives", async () => {
    await withPage({ allow: [/^console error: Failed to load resource: the server responded with a status of 400/] }, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      const input = page.locator(".query-input");
      const error = page.getByTestId("query-error");
      const cases = [
        // The query, the column the server names, what the marker covers and the (at most 30)
        // characters shown before it.
        { query: "status_code:[200 TO 300 AND level:error", column: 25, marked: "A", before: "status_code:[200 TO 300 " },
        { query: "level:(error", column: 13, marked: " ", before: "level:(error", note: "past the end" },
        { query: "   level:error AND app_name:auth)", column: 30, marked: ")", before: " level:error AND app_name:auth", note: "blanks around the query are not sent" },
        { query: 'message:"line 1, column 2" AND (', column: 32, marked: "(", before: 'essage:"line 1, column 2" AND ', note: "the query's own text is not the position" },
        { query: "message:\u{1F600} AND level:(error", column: 27, marked: " ", before: "message:\u{1F600} AND level:(error", note: "columns count characters, not UTF-16 units" },
      ];
      for (const [index, { query, column, marked, before, note }] of cases.entries()) {
        await input.fill(query);
        await input.press("Enter");
        await waitForPanel(page, "Events", ["error"]);
        await error.filter({ hasText: `[${query.trim()}]` }).waitFor();
        assert.match(await error.locator(".query-error-reason").innerText(), new RegExp(`at line 1, column ${column}$`));
        const position = error.locator(".query-error-position");
        assert.match(await position.innerText(), new RegExp(`^line 1, column ${column}:`));
        const shown = await position.locator("code").evaluate((code) => ({
          before: code.firstChild?.nodeType === Node.TEXT_NODE ? code.firstChild.textContent : "",
          marked: code.querySelector("mark")?.textContent,
        }));
        assert.equal(shown.marked, marked, `${query}: the marker${note ? ` (${note})` : ""}`);
        assert.equal(shown.before, before, `${query}: before the marker`);
        assert.equal(await input.inputValue(), query, "the query is kept as typed");
        if (index === 0) await screenshot(page, "query-error");
      }
      // A valid query clears it.
      await input.fill("level:error");
      await input.press("Enter");
      await waitForPanel(page, "Events");
      assert.equal(await error.count(), 0);
    });
  });
});

describe("explorer saved searches and sharing", () => {
  test("a saved search is renamed and deleted", async () => {
    const listSaved = async () => (await (await fetch(`${stack.apiUrl}/_logfleet/saved-searches`)).json()).saved_searches;
    const savedNamed = async (name) => (await listSaved()).filter((saved) => saved.name === name);
    /** Waits until the server's copy of `id` has changed since `updated`. */
    const savedAfter = async (id, updated) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const saved = (await listSaved()).find((candidate) => candidate.id === id);
        if (saved && saved.updated_at !== updated) return saved;
        assert.ok(Date.now() < deadline, `saved search ${id} was not written again`);
        await new Promise((resolve) => { setTimeout(resolve, 50); });
      }
    };
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "level:error" });
      await page.getByTestId("saved-searches").click();
      const item = (name) => page.locator(".saved-item").filter({ has: page.locator(".menu-text", { hasText: new RegExp(`^${name}$`) }) });
      await page.getByLabel("Saved search name").fill("Errors");
      await page.getByRole("button", { name: "Save new" }).click();
      await item("Errors").waitFor();
      assert.equal(await page.getByTestId("saved-searches").innerText(), "Errors");

      await item("Errors").getByRole("button", { name: "Rename Errors", exact: true }).click();
      await page.getByLabel("New name").fill("Errors only");
      await page.getByRole("button", { name: "Rename", exact: true }).click();
      await item("Errors only").waitFor();
      assert.equal(await item("Errors").count(), 0);
      const [renamed] = await savedNamed("Errors only");
      assert.equal(renamed?.state?.query, "level:error", "the server has the new name and the same search");
      assert.deepEqual(await savedNamed("Errors"), []);
      // The open search is the renamed one: its button and the name that "Save" would write follow.
      await page.waitForFunction(() => document.querySelector("[data-testid=saved-searches]")?.textContent === "Errors only");
      assert.equal(await page.getByLabel("Saved search name").inputValue(), "Errors only");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      const saved = await savedAfter(renamed.id, renamed.updated_at);
      assert.equal(saved.name, "Errors only", "saving over it keeps the new name");

      // Delete asks first.
      await item("Errors only").getByRole("button", { name: "Delete Errors only", exact: true }).click();
      await item("Errors only").getByRole("button", { name: "Keep" }).click();
      await item("Errors only").getByRole("button", { name: "Delete Errors only", exact: true }).click();
      await item("Errors only").getByRole("button", { name: "Delete", exact: true }).click();
      await item("Errors only").waitFor({ state: "detached" });
      assert.deepEqual(await savedNamed("Errors only"), []);
      await page.waitForFunction(() => document.querySelector("[data-testid=saved-searches]")?.textContent === "Saved");
    });
  });

  test("a saved search written by a script, with only index, query and range, opens", async () => {
    const response = await fetch(`${stack.apiUrl}/_logfleet/saved-searches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "From a script", state: { index: "logs-*", query: "level:warning", range: { from: "now-1h", to: "now" } } }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "level:error", sort: "status_code:asc", stack: "app_name", column: ["@timestamp", "status_code"] });
      await page.getByTestId("saved-searches").click();
      await page.locator(".saved-item .menu-item", { hasText: "From a script" }).click();
      await waitForSearch(page, () => new URL(location.href).searchParams.get("q") === "level:warning");
      await waitForPanel(page, "Events");
      // What it does not say is the default, not what the view had before.
      assert.equal(urlParameter(page, "sort"), null);
      assert.equal(urlParameter(page, "stack"), null);
      assert.deepEqual(await headerColumns(page), ["@timestamp", "level", "app_name", "message"]);
      assert.equal(await totalShown(page), await countMatching(stack.apiUrl, { term: { level: "warning" } }));
    });
  });

  test("the share link, copied or read, reproduces the view in a fresh page", async () => {
    const parameters = { q: "log_category:api_request", column: ["@timestamp", "level", "status_code", "message"], sort: "status_code:asc", stack: "app_name" };
    const viewOf = async (page) => ({
      columns: await headerColumns(page),
      ids: await page.locator("[data-panel=Events] tbody tr[data-row]").evaluateAll((rows) => rows.slice(0, 20).map((row) => row.getAttribute("data-id"))),
      total: await totalShown(page),
      legend: await legend(page),
      sorted: await page.locator('th[data-column="status_code"]').getAttribute("aria-sort"),
      doc: urlParameter(page, "doc"),
      query: await page.locator(".query-input").inputValue(),
    });
    let original;
    let link;
    let absolute;
    await withPage({}, async (page, { context }) => {
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(stack.uiUrl).origin });
      await openExplorer(page, parameters);
      await waitForPanel(page, "Events");
      await waitForPanel(page, "Histogram");
      await page.locator('[data-row="2"]').click();
      await waitForPanel(page, "Document");
      original = await viewOf(page);
      assert.ok(original.doc);
      await page.getByRole("button", { name: "Share", exact: true }).click();
      link = await page.getByLabel("Link", { exact: true }).inputValue();
      absolute = await page.getByLabel("Link with absolute times").inputValue();
      assert.equal(link, page.url());
      await page.getByRole("button", { name: "Copy link", exact: true }).click();
      await page.locator(".share-panel button", { hasText: "Copied" }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    });
    for (const [shared, name] of [[link, "link"], [absolute, "absolute link"]]) {
      await withPage({}, async (page) => {
        await page.goto(shared);
        await waitForPanel(page, "Events");
        await waitForPanel(page, "Histogram");
        await waitForPanel(page, "Document");
        assert.deepEqual(await viewOf(page), original, `the ${name} reproduces the view`);
        if (name === "absolute link") {
          for (const bound of ["from", "to"]) assert.ok(Number.isFinite(Date.parse(urlParameter(page, bound))), `${bound} is absolute`);
        }
      });
    }
  });
});

describe("explorer keyboard", () => {
  test("j and k move the selection without opening it; Enter opens it, k steps back, a new search starts over", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      const selected = () => page.evaluate(() => document.querySelector("[data-panel=Events] tbody tr.selected")?.getAttribute("data-row") ?? null);
      const idOf = (row) => page.locator(`[data-row="${row}"]`).getAttribute("data-id");
      const waitForDoc = (id) => page.waitForFunction((expected) => new URL(location.href).searchParams.get("doc")?.endsWith(`/${expected}`), id);
      for (const key of ["j", "j", "j", "k"]) await page.keyboard.press(key);
      assert.equal(await selected(), "1");
      assert.equal(urlParameter(page, "doc"), null, "moving the selection opens nothing");
      assert.equal(await page.locator("[data-panel=Document]").count(), 0);

      await page.keyboard.press("Enter");
      await waitForPanel(page, "Document");
      await waitForDoc(await idOf(1));
      await page.keyboard.press("k");
      await waitForDoc(await idOf(0));
      assert.equal(await selected(), "0");
      await page.keyboard.press("k");
      assert.equal(await selected(), "0", "k stops at the first row");
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => !document.querySelector("[data-panel=Document]"));

      // Typing in the query moves nothing.
      await page.keyboard.press("/");
      await page.keyboard.type("level:error");
      assert.equal(await selected(), "0");
      await page.keyboard.press("Enter");
      await waitForSearch(page, () => new URL(location.href).searchParams.get("q") === "level:error");
      await waitForPanel(page, "Events");
      // A new search starts the selection over from its first row.
      assert.equal(await selected(), null);
      await page.keyboard.press("Escape");
      await page.keyboard.press("j");
      assert.equal(await selected(), "0");
      await page.keyboard.press("Enter");
      await waitForDoc(await idOf(0));
    });
  });
});

describe("explorer index picker, highlighting, export and document actions", () => {
  test("the index picker lists the data streams, picks one, and this browser remembers it", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      await page.getByTestId("index-picker").click();
      const item = (name) => page.locator(".index-list .menu-item").filter({ has: page.locator(".menu-text", { hasText: new RegExp(`^${name.replace(/[*.]/g, "\\$&")}$`) }) });
      await item("logs-audit-default").waitFor();
      for (const [name, kind] of [["logs-*", "pattern"], ["logs-api_request-default", "data stream"], ["logs-database-default", "data stream"]]) {
        assert.equal(await item(name).locator(".menu-detail").innerText(), kind, name);
      }
      assert.match(await item("logs-*").getAttribute("class"), /active/, "the current pattern is marked");
      // Typing narrows the list.
      await page.locator(".index-list input").fill("audit");
      assert.deepEqual(await page.locator(".index-list .menu-text").allInnerTexts(), ["logs-audit-default"]);
      await item("logs-audit-default").click();
      await waitForSearch(page, () => new URL(location.href).searchParams.get("index") === "logs-audit-default");
      await waitForPanel(page, "Events");
      const audit = await countMatching(stack.apiUrl, { term: { log_category: "audit" } });
      assert.equal(await totalShown(page), audit);
      assert.equal(await page.getByTestId("index-picker").innerText(), "logs-audit-default");
      const categories = await columnTexts(page, "message");
      assert.ok(categories.length > 0);

      // A reload keeps it (the URL), and so does a visit without it in the URL (this browser).
      await page.reload();
      await waitForPanel(page, "Events");
      assert.equal(await page.getByTestId("index-picker").innerText(), "logs-audit-default");
      await page.goto(`${stack.uiUrl}explorer`);
      await waitForPanel(page, "Events");
      assert.equal(await page.getByTestId("index-picker").innerText(), "logs-audit-default");
      assert.equal(urlParameter(page, "index"), "logs-audit-default");
      assert.equal(await totalShown(page), audit);

      // Any pattern can be typed in.
      await page.getByTestId("index-picker").click();
      await page.locator(".index-list input").fill("logs-*-default");
      await page.locator(".index-list input").press("Enter");
      await waitForSearch(page, () => new URL(location.href).searchParams.get("index") === "logs-*-default");
      await waitForPanel(page, "Events");
      assert.equal(await totalShown(page), await allEvents());
    });
  });

  test("the table marks what the query matched", async () => {
    await withPage({}, async (page) => {
      await openExplorer(page, { q: "message:signup" });
      await waitForPanel(page, "Events");
      const marks = await page.locator("[data-panel=Events] tbody td mark").allInnerTexts();
      assert.ok(marks.length > 0, "something is marked");
      assert.deepEqual([...new Set(marks.map((mark) => mark.toLowerCase()))], ["signup"]);
      // Every row's message holds a mark, and the mark is the text, nothing more.
      const messages = await columnTexts(page, "message");
      const marked = await page.locator("[data-panel=Events] tbody tr[data-row]").evaluateAll((rows) => rows.map((row) => row.querySelectorAll("mark").length));
      assert.ok(marked.every((count) => count > 0), "each row has a mark");
      assert.ok(messages.every((message) => /signup/i.test(message)), "the messages are whole");
      await screenshot(page, "highlighted-matches");
      // Without a query nothing is marked.
      await openExplorer(page);
      await waitForPanel(page, "Events");
      assert.equal(await page.locator("[data-panel=Events] tbody td mark").count(), 0);
    });
  });

  test("an NDJSON export stops at its limit and shows its progress", async () => {
    await withPage({}, async (page, { context }) => {
      await openExplorer(page);
      await waitForPanel(page, "Events");
      const total = await totalShown(page);
      const limit = Math.floor(total / 2);
      // A slow link, so the export's progress can be watched.
      const session = await context.newCDPSession(page);
      await session.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: 100 * 1024, uploadThroughput: -1 });
      await page.getByTestId("export").click();
      await page.getByRole("radio", { name: "NDJSON" }).click();
      await page.getByLabel("At most").fill(String(limit));
      await page.locator(".export-form .hint", { hasText: `${limit.toLocaleString("en-US")} matching events` }).waitFor();
      const downloaded = page.waitForEvent("download", { timeout: 60_000 });
      await page.getByRole("button", { name: "Export NDJSON" }).click();
      // Part of it, against the total the server announced; the toolbar button counts too.
      const progress = page.locator(".export-progress span", { hasText: new RegExp(`^[1-9][\\d,]* of ${limit.toLocaleString("en-US")} rows$`) });
      await progress.waitFor({ timeout: 30_000 });
      assert.equal(await page.locator(".export-progress progress").getAttribute("max"), String(limit));
      await page.getByTestId("export").filter({ hasText: /^Exporting [\d,]+…$/ }).waitFor();
      await screenshot(page, "export-progress");
      await session.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      const download = await downloaded;
      await page.getByTestId("export-done").waitFor();
      assert.match(await page.getByTestId("export-done").innerText(), new RegExp(`^Saved ${limit.toLocaleString("en-US")} rows as .+\\.ndjson\\.$`));
      const lines = (await readFile(await download.path(), "utf8")).trimEnd().split("\n");
      assert.equal(lines.length, limit);
      const events = lines.map((line) => JSON.parse(line));
      const times = events.map((event) => Date.parse(event["@timestamp"]));
      assert.ok(times.every(Number.isFinite) && inOrder(times, (a, b) => b - a), "newest first, as the table");
      assert.ok(events.every((event) => Object.keys(event).every((key) => ["@timestamp", "level", "app_name", "message"].includes(key))), "the table's columns");
    });
  });

  test("the document view filters for and out a value and copies a value and the JSON", async () => {
    await withPage({}, async (page, { context }) => {
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(stack.uiUrl).origin });
      await openExplorer(page, { q: "log_category:database" });
      await waitForPanel(page, "Events");
      await page.locator('[data-row="0"]').click();
      await waitForPanel(page, "Document");
      const field = (name) => page.locator(`[data-panel=Document] [data-field="${name}"]`);
      const operation = (await field("db_operation").locator(".field-value").innerText()).trim();
      assert.ok(operation, "the event has a db_operation");

      await field("db_operation").hover();
      await field("db_operation").getByRole("button", { name: "Copy the value of db_operation" }).click();
      await field("db_operation").locator(".copy-status", { hasText: "Copied" }).waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), operation);
      await page.getByRole("tab", { name: "JSON" }).click();
      await page.getByRole("button", { name: "Copy JSON" }).click();
      await page.getByRole("button", { name: "Copy JSON" }).filter({ hasText: "Copied" }).waitFor();
      const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
      assert.equal(copied.db_operation, operation);
      assert.equal(copied.log_category, "database");
      await page.getByRole("tab", { name: "Fields" }).click();

      await field("db_operation").hover();
      await field("db_operation").getByRole("button", { name: "Filter for db_operation" }).click();
      const forQuery = `log_category:database db_operation:"${operation}"`;
      await waitForSearch(page, (expected) => new URL(location.href).searchParams.get("q") === expected, forQuery);
      assert.equal(urlParameter(page, "doc"), null, "filtering closes the document");
      await waitForPanel(page, "Events");
      const matching = await countMatching(stack.apiUrl, { bool: { filter: [{ term: { log_category: "database" } }, { term: { db_operation: operation } }] } });
      assert.equal(await totalShown(page), matching);

      await page.locator('[data-row="0"]').click();
      await waitForPanel(page, "Document");
      await field("db_operation").hover();
      await field("db_operation").getByRole("button", { name: "Filter out db_operation" }).click();
      // Filtering out replaces the clause that filtered for it.
      await waitForSearch(page, (expected) => new URL(location.href).searchParams.get("q") === expected, `log_category:database -db_operation:"${operation}"`);
      await waitForPanel(page, "Events");
      const database = await countMatching(stack.apiUrl, { term: { log_category: "database" } });
      assert.equal(await totalShown(page), database - matching);
      const operations = await page.locator("[data-panel=Events] tbody tr[data-row]").count();
      assert.ok(operations > 0);
    });
  });
});

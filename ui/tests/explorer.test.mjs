// Browser tests of the log explorer against the real logfleet binary (LOGFLEET_BIN), filled
// with seed-like events. Every test fails on a console error or warning, a page error or a
// dialog; waits are on the panels' data-state, never on fixed delays.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import {
  countMatching, explorerUrl, ingest, launchBrowser, openPage, screenshot, seedEvents, startStack, waitForPanel,
} from "./harness.mjs";

const EVENTS = 2600;

let stack;
let browser;

before(async () => {
  stack = await startStack();
  await ingest(stack.apiUrl, seedEvents(EVENTS));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * Runs `body` with a fresh page and fails if the page reported any problem but those `allow`
 * expects (Chromium logs every non-2xx answer, such as the 400 of an invalid query).
 */
async function withPage({ allow = [], ...options }, body) {
  const opened = await openPage(browser, options);
  try {
    await body(opened.page, opened);
    const unexpected = opened.problems.filter((problem) => !allow.some((pattern) => pattern.test(problem)));
    assert.deepEqual(unexpected, [], "the page reported problems");
  } finally {
    await opened.context.close();
  }
}

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

describe("explorer", () => {
  test("loads with every panel ready and no console error, in light and dark", async () => {
    for (const colorScheme of ["light", "dark"]) {
      await withPage({ colorScheme }, async (page) => {
        await openExplorer(page);
        await waitForPanel(page, "Events");
        await waitForPanel(page, "Histogram");
        await waitForPanel(page, "Fields");
        assert.equal(await totalShown(page), EVENTS);
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
      const expected = await countMatching(stack.apiUrl, { query_string: { query: "level:error AND app_name:auth", default_operator: "AND" } });
      assert.ok(expected > 0 && expected < EVENTS);
      await page.keyboard.press("/");
      await page.keyboard.type("level:error AND app_name:auth");
      await page.keyboard.press("Enter");
      await waitForSearch(page, (count) => document.querySelector("[data-testid=hits-count]")?.textContent?.replace(/[^\d]/g, "") === String(count), expected);
      const levels = await page.locator("[data-panel=Events] tbody tr[data-row] td:nth-child(2)").allInnerTexts();
      assert.ok(levels.length > 0 && levels.every((level) => level === "error"), `levels: ${levels.join(",")}`);
      assert.equal(new URL(page.url()).searchParams.get("q"), "level:error AND app_name:auth");
      // The URL reproduces the view.
      await page.reload();
      await waitForPanel(page, "Events");
      assert.equal(await totalShown(page), expected);
      assert.equal(await page.locator(".query-input").inputValue(), "level:error AND app_name:auth");
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
      await screenshot(page, "query-error");
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
      assert.match(await page.getByTestId("loaded-count").innerText(), new RegExp(`^100 of ${EVENTS.toLocaleString("en-US")} events`));
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

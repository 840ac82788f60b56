// Browser test: configure an OpenAI-compatible provider against a local stand-in that answers with
// OpenAI's documented chat-completion body, test the connection, generate in the AI studio, see the
// usage; then the built-in writer in the studio, a persona edit and a knowledge-base article.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { BASE, openBrowser, screenshot } from "./support.mjs";

let browser;
let page;
let standIn;
let standInUrl;
const received = [];

function completion(content) {
  return {
    id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    object: "chat.completion",
    created: 1741569952,
    model: "gpt-4o-mini-2024-07-18",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null, annotations: [] }, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
    service_tier: "default",
    system_fingerprint: "fp_06737a9306",
  };
}

before(async () => {
  standIn = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ url: req.url, auth: req.headers.authorization, body });
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "Unknown path", type: "invalid_request_error" } }));
        return;
      }
      if (req.headers.authorization !== "Bearer sk-browser-test-4321") {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } }));
        return;
      }
      const content = body.includes("connection test")
        ? '{"body": "OK"}'
        : 'Here you go:\n```json\n{"subject": "Your spring sale, {{first_name | \\"there\\"}}", "body": "Hi {{first_name | \\"there\\"}},\\n\\nWe sold 14 homes on your street this year. Want a free valuation?\\n\\n{{sender.name}}"}\n```';
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(completion(content)));
    });
  });
  await new Promise((r) => standIn.listen(0, "127.0.0.1", r));
  standInUrl = `http://127.0.0.1:${standIn.address().port}/v1`;
  ({ browser, page } = await openBrowser({ width: 1366, height: 900 }));
});

after(async () => {
  await browser?.close();
  standIn?.close();
});

const shot = (name) => screenshot(page, name);

test("a provider is configured and tested, the studio generates with it, and usage shows the calls", async () => {
  await page.goto(`${BASE}/signup`);
  await page.getByLabel("Your name").fill("Ada Writer");
  await page.getByLabel("Organization").fill("Harbor Homes");
  await page.getByLabel("Work email").fill(`ai-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Welcome, Ada" }).waitFor();

  // The built-in writer answers before any provider exists, labelled.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "AI studio" }).click();
  await page.getByRole("heading", { name: "Nothing run yet" }).waitFor();
  await page.getByLabel("Persona").selectOption({ label: "Hormozi" });
  await page.getByRole("button", { name: "Run" }).click();
  const builtin = page.getByTestId("studio-result");
  await builtin.waitFor();
  assert.match(await builtin.innerText(), /What you get:/);
  assert.match(await page.getByTestId("provenance").innerText(), /Built-in writer/);
  await shot("20-ai-studio-builtin");

  // Settings → AI: add the provider, the key is masked after saving, test the connection.
  await page.getByRole("link", { name: "Providers & usage" }).click();
  await page.getByRole("heading", { name: "Using the built-in writer" }).waitFor();
  await page.getByRole("button", { name: "Add provider" }).click();
  await page.getByLabel("Base URL (or endpoint URL)").fill(standInUrl);
  await page.getByLabel("API key").fill("sk-browser-test-4321");
  await page.getByRole("button", { name: "Save provider" }).click();
  await page.getByText("OpenAI saved.").first().waitFor();
  const card = page.getByTestId("provider");
  await card.getByText("Key set, ends in 4321").waitFor();
  assert.ok(!(await page.content()).includes("sk-browser-test-4321"), "the key is not shown");
  await card.getByRole("button", { name: "Test connection" }).click();
  await card.getByRole("status").filter({ hasText: "Connected" }).waitFor();
  await page.getByLabel("Default provider").selectOption({ label: "OpenAI" });
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("AI settings saved.").first().waitFor();
  await shot("21-ai-settings");

  // The studio now writes with the provider.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "AI studio" }).click();
  await page.getByLabel("Step instructions").fill("Mention the spring market.");
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByTestId("provenance").filter({ hasText: "OpenAI · gpt-4o-mini-2024-07-18" }).waitFor();
  assert.match(await page.getByTestId("studio-result").innerText(), /Your spring sale, \{\{first_name \| "there"\}\}/);
  const sent = JSON.parse(received.at(-1).body);
  assert.equal(sent.model, "gpt-4o-mini");
  assert.match(sent.messages[1].content, /Mention the spring market/);
  await shot("22-ai-studio-provider");

  // Usage: the built-in writer's call, the connection test and the generation.
  await page.getByRole("link", { name: "Providers & usage" }).click();
  const usage = page.getByTestId("usage");
  await usage.filter({ hasText: /Calls\s*3/ }).waitFor();
  await page.getByText("OpenAI · Test connection").waitFor();
  await page.getByText("Built-in writer · Generate step template").waitFor();
  assert.match(await usage.innerText(), /Tokens\s+118/);
  await shot("23-ai-usage");
});

test("personas are edited and duplicated, and knowledge articles are added and found", async () => {
  await page.getByRole("link", { name: "Personas" }).click();
  await page.getByRole("list", { name: "Personas" }).getByText("Sales Agent").click();
  await page.getByLabel("System prompt").fill("You are Harbor Homes' listing specialist. Be warm and precise.");
  await page.getByRole("button", { name: "Save persona" }).click();
  await page.getByText("Sales Agent saved.").first().waitFor();
  await page.getByRole("button", { name: "Duplicate" }).click();
  await page.getByRole("list", { name: "Personas" }).getByText("Sales Agent (copy)").waitFor();
  assert.equal(await page.getByLabel("System prompt").inputValue(), "You are Harbor Homes' listing specialist. Be warm and precise.");
  await shot("24-personas");

  await page.getByRole("link", { name: "Knowledge base" }).click();
  await page.getByRole("heading", { name: "No articles" }).waitFor();
  await page.getByRole("button", { name: "New article" }).click();
  await page.getByRole("button", { name: "Save article" }).click();
  await page.getByText("is required").first().waitFor();
  await page.getByLabel("Title").fill("Valuation guarantee");
  await page.getByLabel("Topic").fill("offer");
  await page.getByLabel("Content").fill("Our valuations are free and come with a written price guarantee.");
  await page.getByRole("button", { name: "Save article" }).click();
  await page.getByText("Valuation guarantee saved.").first().waitFor();
  await page.getByLabel("Search articles").fill("guarantee");
  await page.getByText("Valuation guarantee", { exact: true }).waitFor();
  await page.getByLabel("Search articles").fill("rentals");
  await page.getByRole("heading", { name: "No articles" }).waitFor();
  await shot("25-knowledge");
});

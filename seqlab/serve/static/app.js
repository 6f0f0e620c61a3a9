// seqlab web page: pick a model, type text, see the output. Plain JS, no build step.
// Model output is always inserted as text (textContent), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let models = [];
let chatTurns = [];  // the conversation of the chat mode, oldest first: user, bot, user, ...

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatus(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

async function api(path, body) {
  const headers = {};
  const token = $("token").value.trim();
  if (token) headers["Authorization"] = "Bearer " + token;
  const init = { headers };
  if (body !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try { data = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const message = data && data.error ? data.error : response.status + " " + response.statusText;
    throw new Error(message);
  }
  return data;
}

function currentModel() {
  return models.find((m) => m.name === $("model").value);
}

async function loadModels() {
  try {
    const data = await api("/models");
    models = data.models;
  } catch (err) {
    setStatus("Cannot list models: " + err.message, true);
    return;
  }
  const select = $("model");
  const previous = select.value;
  select.replaceChildren();
  for (const m of models) {
    const label = m.name + " (" + (m.family || "loading") + (m.ready ? "" : ", not ready") + ")";
    select.appendChild(el("option", { value: m.name }, label));
  }
  if (models.some((m) => m.name === previous)) select.value = previous;
  onModelChange();
  setStatus(models.length ? "" : "No models loaded.");
}

function onModelChange() {
  const m = currentModel();
  for (const family of ["language_model", "seq2seq"]) {
    $("options-" + family).hidden = !m || m.family !== family;
  }
  $("generate").hidden = !m || m.family !== "language_model";
  const chats = Boolean(m && m.endpoints && m.endpoints.includes("chat"));
  $("chat").hidden = $("chat-reset").hidden = !chats;
  chatTurns = [];
  $("run").textContent = m && m.family === "language_model" ? "Next token" : "Run";
  const info = [];
  if (m && m.endpoints) info.push("endpoints: " + m.endpoints.join(", "));
  if (m && m.labels) info.push(m.labels.length + " labels");
  $("model-info").textContent = info.join(" · ");
}

function intValue(id) {
  return parseInt($(id).value, 10);
}

async function run(action) {
  const m = currentModel();
  const text = $("input").value;
  if (!m) return setStatus("Pick a model first.", true);
  const base = "/models/" + encodeURIComponent(m.name) + "/";
  const output = $("output");
  setStatus("Working…");
  $("run").disabled = true;
  try {
    let view;
    if (m.family === "seq2seq") {
      const data = await api(base + "translate", {
        text, beam_size: intValue("beam-size"), n_best: intValue("n-best"), return_attention: true,
      });
      view = renderTranslation(data.results[0]);
    } else if (m.family === "classifier") {
      const data = await api(base + "classify", { text, explain: Boolean(m.explain) });
      view = renderClassification(data.results[0]);
    } else if (m.family === "tagger") {
      const data = await api(base + "tag", { text });
      view = renderTags(data.results[0]);
    } else if (action === "generate") {
      const data = await api(base + "generate", { prompt: text, max_tokens: intValue("max-tokens") });
      view = renderGeneration(data.texts[0]);
    } else {
      const data = await api(base + "next", { text, top_k: intValue("top-k") });
      view = renderNext(data.tokens);
    }
    output.replaceChildren(view);
    setStatus("");
  } catch (err) {
    setStatus(err.message, true);
  } finally {
    $("run").disabled = false;
  }
}

// The chat mode: the page keeps the conversation and sends it whole; the server answers the last turn.
async function chat() {
  const m = currentModel();
  const text = $("input").value;
  if (!m) return setStatus("Pick a model first.", true);
  const body = { turns: [...chatTurns, text] };
  if (m.family === "seq2seq") body.beam_size = intValue("beam-size");
  setStatus("Working…");
  $("chat").disabled = true;
  try {
    const data = await api("/models/" + encodeURIComponent(m.name) + "/chat", body);
    chatTurns.push(text.trim(), data.text);
    $("input").value = "";
    renderChat();
    setStatus("");
  } catch (err) {
    setStatus(err.message, true);
  } finally {
    $("chat").disabled = false;
  }
}

function resetChat() {
  chatTurns = [];
  renderChat();
  setStatus("New conversation.");
}

function renderChat() {
  const log = el("ol", { id: "chat-log", class: "chat", "aria-label": "conversation" });
  chatTurns.forEach((turn, i) => log.appendChild(el("li", { class: i % 2 ? "bot" : "user" }, turn)));
  $("output").replaceChildren(log);
}

// -- views --------------------------------------------------------------------------------------

function renderBars(title, rows) {
  const box = el("div");
  box.appendChild(el("h2", {}, title));
  const grid = el("div", { class: "bars" });
  const top = Math.max(...rows.map((r) => r.value), 1e-9);
  for (const row of rows) {
    grid.appendChild(el("span", { class: "bar-label" }, row.label));
    const bar = el("div", { class: "bar", title: row.value.toFixed(4) });
    bar.style.width = (100 * row.value / top).toFixed(1) + "%";
    grid.appendChild(bar);
    grid.appendChild(el("span", { class: "muted" }, row.value.toFixed(3)));
  }
  box.appendChild(grid);
  return box;
}

function renderTranslation(result) {
  const box = el("div", { id: "translation-result" });
  box.appendChild(el("h2", {}, "Translation"));
  box.appendChild(el("p", { class: "translation", id: "translation" }, result.text));
  if (result.n_best && result.n_best.length > 1) {
    box.appendChild(el("h2", {}, "N-best"));
    const list = el("ol", { class: "nbest" });
    for (const hyp of result.n_best) {
      const item = el("li", {}, hyp.text);
      item.appendChild(el("span", { class: "score" }, hyp.score === null ? "" : hyp.score.toFixed(3)));
      list.appendChild(item);
    }
    box.appendChild(list);
  }
  if (result.attention) {
    box.appendChild(el("h2", {}, "Attention (rows: output tokens, columns: input tokens)"));
    box.appendChild(heatmap(result.attention, result.source_tokens, result.tokens));
  }
  return box;
}

// An SVG heatmap of weights[t][s], source tokens along the top, target tokens down the side.
function heatmap(weights, sourceTokens, targetTokens) {
  const cell = 28, rows = weights.length, cols = rows ? weights[0].length : 0;
  const label = (tokens, i) => (i < tokens.length ? tokens[i] : "</s>");
  const charWidth = 7.5;
  const left = 12 + charWidth * Math.max(4, ...Array.from({ length: rows }, (_, i) => label(targetTokens, i).length));
  const top = 12 + charWidth * Math.max(4, ...Array.from({ length: cols }, (_, j) => label(sourceTokens, j).length));
  const root = svg("svg", {
    class: "heatmap", id: "heatmap", role: "img",
    width: left + cols * cell + 4, height: top + rows * cell + 4,
    "aria-label": "attention heatmap: " + rows + " output tokens by " + cols + " input tokens",
    "data-rows": rows, "data-cols": cols,
  });
  for (let j = 0; j < cols; j++) {
    const x = left + j * cell + cell / 2, y = top - 6;
    root.appendChild(svg("text", { x, y, transform: "rotate(-60 " + x + " " + y + ")", class: "source-token" },
      label(sourceTokens, j)));
  }
  for (let i = 0; i < rows; i++) {
    root.appendChild(svg("text", { x: left - 6, y: top + i * cell + cell / 2 + 4, "text-anchor": "end",
      class: "target-token" }, label(targetTokens, i)));
    for (let j = 0; j < cols; j++) {
      const w = weights[i][j];
      const rect = svg("rect", {
        class: "cell", x: left + j * cell, y: top + i * cell, width: cell, height: cell,
        fill: "#2266aa", "fill-opacity": Math.max(0.03, Math.min(1, w)).toFixed(3), "data-weight": w,
      });
      rect.appendChild(svg("title", {}, label(targetTokens, i) + " ← " + label(sourceTokens, j) + ": " + w.toFixed(3)));
      root.appendChild(rect);
    }
  }
  return root;
}

function renderClassification(result) {
  const box = el("div", { id: "classification-result" });
  box.appendChild(el("h2", {}, "Label: " + result.label));
  box.appendChild(renderBars("Probabilities", result.probabilities.map((p) => ({ label: p.label, value: p.probability }))));
  if (result.attention) {
    box.appendChild(el("h2", {}, "Attention over tokens"));
    const tokens = el("div", { class: "tokens", id: "attention-tokens" });
    const top = Math.max(...result.attention.map((a) => a.weight), 1e-9);
    for (const a of result.attention) {
      const span = el("span", { class: "tok", title: a.weight.toFixed(4), "data-weight": a.weight }, a.token);
      span.style.backgroundColor = "rgba(34, 102, 170, " + (0.85 * a.weight / top).toFixed(3) + ")";
      if (a.weight / top > 0.6) span.style.color = "#fff";
      tokens.appendChild(span);
    }
    box.appendChild(tokens);
  }
  return box;
}

function renderTags(result) {
  const box = el("div", { id: "tag-result" });
  box.appendChild(el("h2", {}, "Tags"));
  const tokens = el("div", { class: "tokens" });
  for (const t of result.tokens) {
    const item = el("span", { class: "tagged" });
    item.appendChild(el("span", {}, t.token));
    item.appendChild(el("span", { class: "tag" }, t.tag));
    tokens.appendChild(item);
  }
  box.appendChild(tokens);
  return box;
}

function renderNext(tokens) {
  const box = renderBars("Next-token distribution", tokens.map((t) => ({ label: t.token, value: t.probability })));
  box.id = "next-result";
  return box;
}

function renderGeneration(text) {
  const box = el("div", { id: "generation-result" });
  box.appendChild(el("h2", {}, "Generated"));
  box.appendChild(el("pre", {}, text));
  return box;
}

// -- wiring -------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("token").value = sessionStorage.getItem("seqlab-token") || "";
  $("token").addEventListener("change", () => {
    sessionStorage.setItem("seqlab-token", $("token").value.trim());
    loadModels();
  });
  $("model").addEventListener("change", onModelChange);
  $("run").addEventListener("click", () => run("run"));
  $("generate").addEventListener("click", () => run("generate"));
  $("chat").addEventListener("click", chat);
  $("chat-reset").addEventListener("click", resetChat);
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run("run");
  });
  loadModels();
});

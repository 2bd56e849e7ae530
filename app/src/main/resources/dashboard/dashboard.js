// The QoIFlow dashboard: renders the state the server pushes as server-sent events (/events).
"use strict";

const ARENA_HALF_CM = 300;
const TRUTH_JUMP_CM = 80;
const RIG_COLOURS = ["#ff8c42", "#4fc3f7", "#c39bff", "#8bd17c", "#ff6f91"];
const $ = (id) => document.getElementById(id);

function pct(f) {
  return (100 * f).toFixed(0) + " %";
}

function text(id, value) {
  const el = $(id);
  if (el.textContent !== String(value)) {
    el.textContent = value;
  }
}

// Every record field reaches the page as text (textContent), never as markup: rig ids, reasons,
// questions and answers come from Kafka topics anyone with write access can fill.
function el(tag, className, content) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (content !== undefined) e.textContent = content;
  return e;
}

function bars(containerId, prefix, rows) {
  const box = $(containerId);
  for (const r of rows) {
    let row = document.getElementById(prefix + r.name);
    if (!row) {
      const track = el("div", "track");
      track.appendChild(el("div", "fill"));
      const value = el("span", "value");
      value.id = prefix + r.name;
      const line = el("div", "row");
      line.append(el("span", "label", r.name), track, value);
      box.appendChild(line);
      row = value;
    }
    const line = row.parentElement;
    const fill = line.querySelector(".fill");
    fill.style.width = Math.max(0, Math.min(1, r.share)) * 100 + "%";
    fill.classList.toggle("absent", !r.present);
    if (prefix === "qoi-") fill.classList.add("qoi");
    text(row.id, r.label);
  }
}

function drawBudgetHistory(history) {
  const c = $("budget-history");
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  if (history.length === 0) return;
  g.strokeStyle = "#7fd1ff";
  g.lineWidth = 2;
  // A step per decision, oldest on the left; the height is the budget fraction.
  const n = history.length;
  const step = (c.width - 8) / n;
  const y = (f) => c.height - 4 - f * (c.height - 8);
  g.beginPath();
  g.moveTo(4, y(history[0].previous));
  history.forEach((h, i) => {
    g.lineTo(4 + i * step, y(h.previous));
    g.lineTo(4 + i * step, y(h.fraction));
  });
  g.lineTo(c.width - 4, y(history[n - 1].fraction));
  g.stroke();
}

function drawArena(rigs) {
  const c = $("arena");
  const g = c.getContext("2d");
  const s = c.width / (2 * ARENA_HALF_CM);
  const px = (x) => (x + ARENA_HALF_CM) * s;
  const py = (y) => c.height - (y + ARENA_HALF_CM) * s;
  g.clearRect(0, 0, c.width, c.height);
  g.strokeStyle = "#26303c";
  g.lineWidth = 1;
  for (let v = -ARENA_HALF_CM; v <= ARENA_HALF_CM; v += 100) {
    g.beginPath(); g.moveTo(px(v), 0); g.lineTo(px(v), c.height); g.stroke();
    g.beginPath(); g.moveTo(0, py(v)); g.lineTo(c.width, py(v)); g.stroke();
  }
  Object.keys(rigs).forEach((id, k) => {
    const rig = rigs[id];
    const colour = RIG_COLOURS[k % RIG_COLOURS.length];
    // Truth as a line in the rig's colour, broken where the simulator moved the target far in one
    // step (a new episode); estimates as dots, the newest one large.
    g.strokeStyle = colour;
    g.globalAlpha = 0.9;
    g.lineWidth = 2;
    // Only the truth of the time the estimates cover: results lag the replay by the pipeline's
    // latency, and truth ahead of them would look like an error.
    const from = rig.estimates.length ? rig.estimates[0][0] : -Infinity;
    const to = rig.estimates.length ? rig.estimates[rig.estimates.length - 1][0] : Infinity;
    const truth = rig.truth.filter((p) => p[0] >= from && p[0] <= to);
    g.beginPath();
    let prev = null;
    for (const p of truth) {
      const jump = prev && Math.hypot(p[1] - prev[1], p[2] - prev[2]) > TRUTH_JUMP_CM;
      if (!prev || jump) g.moveTo(px(p[1]), py(p[2]));
      else g.lineTo(px(p[1]), py(p[2]));
      prev = p;
    }
    g.stroke();
    const now = truth[truth.length - 1];
    if (now) {
      // Where the target really was at the newest estimate (visible also when it stands still).
      g.beginPath(); g.arc(px(now[1]), py(now[2]), 7, 0, 2 * Math.PI); g.stroke();
    }
    g.globalAlpha = 0.55;
    g.fillStyle = colour;
    rig.estimates.forEach((p) => {
      g.beginPath(); g.arc(px(p[1]), py(p[2]), 2.5, 0, 2 * Math.PI); g.fill();
    });
    g.globalAlpha = 1;
    const last = rig.estimates[rig.estimates.length - 1];
    if (last) {
      g.beginPath(); g.arc(px(last[1]), py(last[2]), 6, 0, 2 * Math.PI); g.fill();
      g.font = "12px sans-serif";
      g.fillText(id, px(last[1]) + 8, py(last[2]) - 8);
    }
  });
}

function render(s) {
  text("results-count", s.results);
  text("results-rate", s.resultsPerS.toFixed(1));
  const b = s.budget;
  if (b.fraction !== undefined) {
    text("budget-value", pct(b.fraction));
    text("budget-reason", b.reason);
    text("budget-previous", pct(b.previous));
    text("budget-time", new Date(b.time).toISOString().substring(11, 19) + " UTC");
  } else if (b.resultFraction !== undefined) {
    text("budget-value", pct(b.resultFraction));
  }
  drawBudgetHistory(s.budgetHistory);
  const r = s.latest;
  if (r) {
    text("budget-layers", r.budgetLayers);
    text("layers-used", r.layersUsed);
    text("policy", r.policy);
    text("latency-ms", r.latencyMs.toFixed(1));
    const per = r.layersPerModality || 1;
    bars("layers-bars", "layers-", r.modalities.map((m) => ({
      name: m.name, present: m.present, share: m.layers / per, label: m.layers + "/" + per })));
    bars("qoi-bars", "qoi-", r.modalities.map((m) => ({
      name: m.name, present: m.present, share: m.qoi, label: m.present ? m.qoi.toFixed(2) : "absent" })));
  }
  drawArena(s.rigs);
  text("scored", s.scored);
  if (s.meanErrorCm !== undefined) {
    text("error-cm", s.meanErrorCm.toFixed(1));
    text("class-acc", pct(s.classAcc));
  }
  const rigCells = Object.entries(s.rigs).map(([id, g]) => [
    id,
    String(g.results),
    g.meanErrorCm === undefined ? "—" : g.meanErrorCm.toFixed(1),
    g.classAcc === undefined ? "—" : pct(g.classAcc),
  ]);
  const tbody = document.querySelector("#rig-table tbody");
  // Rebuilt only when a cell changed, so a text selection in the table survives quiet updates.
  const shown = Array.from(tbody.rows, (tr) => Array.from(tr.cells, (td) => td.textContent));
  if (JSON.stringify(shown) !== JSON.stringify(rigCells)) {
    tbody.replaceChildren(...rigCells.map((cells) => {
      const tr = el("tr");
      tr.append(...cells.map((c) => el("td", null, c)));
      return tr;
    }));
  }

  if (s.answers.length > 0) {
    const list = $("qa-list");
    list.replaceChildren(...s.answers.slice().reverse().map((a) => {
      const li = el("li");
      li.append(
        el("span", "q", a.rig + ": " + a.question), " ",
        el("span", "a", a.answer), " ",
        el("span", "muted",
          "(" + a.modality + ", N=" + a.blocks + ", " + a.latencyMs.toFixed(0) + " ms)"));
      return li;
    }));
  }
  const reasons = Object.entries(s.deadLetters);
  const undecodable = Object.entries(s.undecodable).map(([t, n]) => ["undecodable on " + t, n]);
  const all = reasons.concat(undecodable);
  if (all.length > 0) {
    $("deadletters").replaceChildren(...all.map(([reason, n]) => {
      const tr = el("tr");
      tr.append(el("td", null, reason), el("td", null, String(n)));
      tr.id = "deadletter-" + reason.replace(/[^a-z0-9]+/gi, "-");
      return tr;
    }));
    const last = s.recentDeadLetters[s.recentDeadLetters.length - 1];
    if (last) text("deadletter-last", "last: " + last.reason + " from " + (last.topic || "the job") + " — " + last.message);
  }
}

function connect() {
  const events = new EventSource("events");
  events.onopen = () => {
    text("conn-status", "live");
    $("conn-status").classList.remove("down");
  };
  events.onmessage = (e) => render(JSON.parse(e.data));
  events.onerror = () => {
    text("conn-status", "reconnecting…");
    $("conn-status").classList.add("down");
  };
}

connect();

// The Chokepoint dashboard: one page, six tabs (hash routing), plain JavaScript, ECharts for
// the charts (global `echarts`, served from /assets/echarts.min.js). No build step, no
// external resources.
"use strict";

(() => {
  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);
  const esc = (s) =>
    String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const enc = encodeURIComponent;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const finite = (v) => typeof v === "number" && Number.isFinite(v);

  /** A number for people: about 3–4 significant digits, thousands separated. */
  function num(v, digits) {
    if (!finite(v)) return "–";
    if (Math.abs(v) < 1e-9) v = 0;
    const a = Math.abs(v);
    const d = digits ?? (a === 0 ? 0 : a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : a >= 0.01 ? 3 : 5);
    return v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: 0 });
  }
  /** A share (0–1) as a percentage. */
  const pct = (v, d = 1) => (finite(v) ? `${(v * 100).toFixed(d)}%` : "–");
  /** USD with a scale word. */
  function usd(v) {
    if (!finite(v)) return "–";
    const a = Math.abs(v);
    if (a >= 1e9) return `USD ${(v / 1e9).toFixed(2)} bn`;
    if (a >= 1e6) return `USD ${(v / 1e6).toFixed(1)} m`;
    if (a >= 1e3) return `USD ${(v / 1e3).toFixed(1)} k`;
    return `USD ${v.toFixed(0)}`;
  }
  /** USD million, one decimal. */
  const musd = (v) => (finite(v) ? (v / 1e6).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : "–");
  const when = (secs) =>
    secs ? new Date(secs * 1000).toLocaleString("en-GB", { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "–";
  const PENDING = new Set(["queued", "running"]);
  const statusSpan = (s) => `<span class="status-${esc(s)}">${esc(s)}</span>`;

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    constructor(status, message, hints, body) {
      super(message);
      this.status = status;
      this.hints = hints;
      this.body = body;
    }
  }

  /** Calls the API; returns JSON (or text with `text: true`); throws ApiError on HTTP errors. */
  async function api(path, { method = "GET", body = null, text = false } = {}) {
    let r;
    try {
      r = await fetch(path, { method, body, headers: body != null ? { "Content-Type": "text/plain" } : {} });
    } catch (e) {
      throw new ApiError(0, `The server did not answer (${e.message}).`, ["Is `chokepoint serve` running?"]);
    }
    const raw = await r.text();
    let json = null;
    try {
      json = JSON.parse(raw);
    } catch (_) {
      /* not JSON */
    }
    if (!r.ok) {
      // Errors are {error, hint}; the error text may carry its own "\n  hint: ..." too.
      let message = json && typeof json.error === "string" ? json.error : raw.trim() || `HTTP ${r.status}`;
      const hints = [];
      const m = message.split(/\n\s*hint:\s*/);
      if (m.length > 1) {
        message = m[0];
        hints.push(...m.slice(1));
      }
      if (json && json.hint) hints.push(json.hint);
      if (json && Array.isArray(json.diagnostics) && !json.error) message = "The scenario has problems:";
      throw new ApiError(r.status, message, hints, json);
    }
    return text ? raw : json;
  }

  function showError(boxId, err) {
    const box = $(boxId);
    if (!box) return;
    let html = `<strong>${err.status ? `Error (HTTP ${err.status})` : "Error"}:</strong> ${esc(err.message || String(err))}`;
    for (const h of err.hints || []) html += `<span class="hint">Hint: ${esc(h)}</span>`;
    const diags = err.body && Array.isArray(err.body.diagnostics) ? err.body.diagnostics : [];
    if (diags.length) {
      html += "<ul>" + diags.map((d) => `<li>line ${d.line}:${d.col} ${esc(d.message)} — ${esc(d.hint)}</li>`).join("") + "</ul>";
    }
    box.innerHTML = html;
    box.hidden = false;
  }
  function clearError(boxId) {
    const box = $(boxId);
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
  }

  /**
   * Follows a run's or job's server-sent events until its final status. Falls back to polling
   * `pollUrl` if the stream breaks. Resolves with {status, error}.
   */
  function follow(eventsUrl, pollUrl, onProgress) {
    return new Promise((resolve) => {
      let finished = false;
      const es = new EventSource(eventsUrl);
      const finish = (s) => {
        if (finished) return;
        finished = true;
        es.close();
        resolve(s);
      };
      es.addEventListener("progress", (e) => {
        try {
          onProgress(JSON.parse(e.data));
        } catch (_) {
          /* ignore a malformed event */
        }
      });
      es.addEventListener("status", (e) => {
        let s;
        try {
          s = JSON.parse(e.data);
        } catch (_) {
          s = { status: "unknown", error: e.data };
        }
        if (!PENDING.has(s.status)) finish(s);
      });
      es.onerror = async () => {
        if (finished) return;
        es.close();
        while (!finished) {
          await sleep(1500);
          try {
            const r = await api(pollUrl);
            const rec = r.run || r.job;
            if (rec && !PENDING.has(rec.status)) finish({ status: rec.status, error: rec.error });
          } catch (_) {
            /* keep trying */
          }
        }
      };
    });
  }

  function setProgress(id, fraction) {
    const p = $(id);
    p.hidden = false;
    p.classList.toggle("indeterminate", fraction == null);
    p.querySelector(".bar").style.width = fraction == null ? "" : `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
  }
  function setStatus(id, text, status) {
    const s = $(id);
    s.textContent = text;
    s.dataset.status = status || "";
    s.className = status ? `status-${status}` : "muted";
  }

  // ---------------------------------------------------------------- shared data

  let goodsPromise = null;
  const goods = new Map();
  function ensureGoods() {
    goodsPromise ??= api("/api/goods").then((list) => {
      for (const g of list) goods.set(g.id, g);
      return list;
    });
    return goodsPromise;
  }
  const goodName = (id) => goods.get(id)?.name ?? id;
  const goodUnit = (id) => goods.get(id)?.unit ?? "units";

  // ---------------------------------------------------------------- charts

  function chart(elOrId) {
    const el = typeof elOrId === "string" ? $(elOrId) : elOrId;
    return echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
  }
  /** Replaces a chart's option, with short animations. */
  function setOpt(c, option) {
    c.setOption({ animationDuration: 300, animationDurationUpdate: 250, ...option }, true);
  }
  function resizeCharts(root) {
    for (const el of root.querySelectorAll(".chart")) {
      const c = echarts.getInstanceByDom(el);
      if (c) c.resize();
    }
  }
  window.addEventListener("resize", () => {
    const visible = document.querySelector(".panel:not([hidden])");
    if (visible) resizeCharts(visible);
  });

  const COLORS = ["#2f6ea5", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02", "#666666", "#1f78b4"];
  const axisLabelNum = { formatter: (v) => num(v) };

  // ---------------------------------------------------------------- routing

  const TABS = ["map", "flows", "scenario", "runs", "risk", "finance"];
  const inited = {};
  const onShow = {};
  const init = {};

  function route() {
    let tab = location.hash.replace(/^#/, "");
    if (!TABS.includes(tab)) tab = "map";
    for (const p of document.querySelectorAll(".panel")) p.hidden = p.dataset.panel !== tab;
    for (const a of document.querySelectorAll("nav.tabs a")) {
      const on = a.dataset.tab === tab;
      a.classList.toggle("active", on);
      a.setAttribute("aria-selected", on ? "true" : "false");
    }
    const panel = $(`panel-${tab}`);
    if (!inited[tab]) {
      inited[tab] = true;
      Promise.resolve(init[tab]()).catch((e) => console.warn(e));
    } else if (onShow[tab]) {
      onShow[tab]();
    }
    requestAnimationFrame(() => resizeCharts(panel));
  }
  window.addEventListener("hashchange", route);

  // ================================================================ MAP

  let geoPromise = null;
  const countryNames = {};
  function loadGeo() {
    geoPromise ??= fetch("/assets/world.geo.json")
      .then((r) => {
        if (!r.ok) throw new ApiError(r.status, "The world map outline could not be loaded.", []);
        return r.json();
      })
      .then((geo) => {
        geo.features = geo.features.filter((f) => f.properties.iso3 && f.properties.iso3 !== "ATA");
        for (const f of geo.features) countryNames[f.properties.iso3] = f.properties.name;
        echarts.registerMap("world", geo);
      });
    return geoPromise;
  }

  let commodities = [];
  let mapSeq = 0;

  init.map = async () => {
    $("map-commodity").addEventListener("change", () => {
      fillStages();
      loadMap();
    });
    $("map-stage").addEventListener("change", loadMap);
    $("map-year").addEventListener("change", loadMap);
    $("map-load").addEventListener("click", loadMap);
    try {
      const list = await api("/api/commodities");
      commodities = list.filter((c) => c.stages && c.stages.length);
      commodities.sort((a, b) => a.name.localeCompare(b.name));
      $("map-commodity").innerHTML = commodities
        .map((c) => `<option value="${esc(c.id)}">${esc(c.name)}</option>`)
        .join("");
      $("map-commodity").value = commodities.some((c) => c.id === "rare_earths") ? "rare_earths" : commodities[0]?.id;
      fillStages();
      await loadMap();
    } catch (e) {
      showError("map-error", e);
    }
  };

  function fillStages() {
    const c = commodities.find((x) => x.id === $("map-commodity").value);
    const stages = c ? c.stages : [];
    const sel = $("map-stage");
    const prev = sel.value;
    sel.innerHTML = stages.map((s) => `<option value="${esc(s)}">${esc(s.replace(/_/g, " "))}</option>`).join("");
    sel.value = stages.includes(prev) ? prev : stages.includes("mining") ? "mining" : stages[0] || "";
  }

  async function loadMap() {
    const seq = ++mapSeq;
    clearError("map-error");
    const id = $("map-commodity").value;
    const stage = $("map-stage").value;
    const year = $("map-year").value.trim();
    let url = `/api/concentration/${enc(id)}?stage=${enc(stage)}`;
    if (year) url += `&year=${enc(year)}`;
    $("map-chart").setAttribute("aria-busy", "true");
    try {
      const [d] = await Promise.all([api(url), loadGeo()]);
      if (seq !== mapSeq) return;
      renderMap(d);
    } catch (e) {
      if (seq !== mapSeq) return;
      showError("map-error", e);
      $("map-title").textContent = "";
      $("map-table").querySelector("tbody").innerHTML = "";
      $("map-kpis").innerHTML = "";
      $("map-notes").innerHTML = "";
      $("map-source").textContent = "";
      const c = echarts.getInstanceByDom($("map-chart"));
      if (c) c.clear();
    } finally {
      $("map-chart").removeAttribute("aria-busy");
    }
  }

  function quantityText(q, unit) {
    if (!q) return "–";
    switch (q.status) {
      case "exact":
        return `${num(q.value)} ${esc(unit)}`;
      case "at_most":
        return `≤ ${num(q.value)} ${esc(unit)}`;
      case "withheld":
        return `<span class="muted" title="The source withholds this figure">withheld</span>`;
      case "missing":
        return `<span class="muted" title="The source gives no figure">not given</span>`;
      default:
        return finite(q.value) ? `${num(q.value)} ${esc(unit)}` : esc(q.status);
    }
  }

  function renderMap(d) {
    const stage = (d.stage || "").replace(/_/g, " ");
    $("map-title").textContent = `${d.commodity_name}: share of world ${stage} ${d.metric || "production"} by country, ${d.year}`;
    const rows = [...d.countries].sort((a, b) => (b.share ?? -1) - (a.share ?? -1));
    const maxShare = Math.max(0.01, ...rows.map((r) => r.share ?? 0));
    const vmMax = Math.min(100, Math.ceil((maxShare * 100) / 5) * 5);
    const data = rows.map((r) =>
      r.share == null
        ? { name: r.iso3, value: NaN, country: r.name, q: r.quantity, share: null, itemStyle: { areaColor: "#d8ccb0" } }
        : { name: r.iso3, value: +(r.share * 100).toFixed(3), country: r.name, q: r.quantity, share: r.share },
    );
    const unit = d.unit;
    const option = {
      tooltip: {
        trigger: "item",
        formatter: (p) => {
          const x = p.data;
          const name = esc(x?.country || countryNames[p.name] || p.name);
          if (!x) return `<b>${name}</b><br><span style="color:#888">not among the listed producers</span>`;
          if (x.share == null) return `<b>${name}</b><br>share unknown (${esc(x.q?.status || "no figure")})`;
          return `<b>${name}</b><br>share ${pct(x.share)}<br>${quantityText(x.q, unit)}`;
        },
      },
      visualMap: {
        type: "continuous",
        min: 0,
        max: vmMax,
        calculable: true,
        orient: "horizontal",
        left: 10,
        bottom: 6,
        itemWidth: 12,
        itemHeight: 160,
        text: ["", "share of world total  "],
        textStyle: { color: "#4a5563", fontSize: 11 },
        inRange: { color: ["#fff0b8", "#fdb863", "#e66101", "#b33c00", "#6e1f00"] },
        formatter: (v) => `${Number(v).toFixed(0)}%`,
      },
      series: [
        {
          type: "map",
          map: "world",
          nameProperty: "iso3",
          roam: true,
          selectedMode: false,
          left: 0,
          right: 0,
          top: 4,
          bottom: 44,
          scaleLimit: { min: 1, max: 12 },
          itemStyle: { areaColor: "#e3e6ea", borderColor: "#ffffff", borderWidth: 0.5 },
          emphasis: { label: { show: false }, itemStyle: { areaColor: "#8fb8de" } },
          data,
        },
      ],
    };
    const c = chart("map-chart");
    setOpt(c, option, true);

    const top = rows[0];
    $("map-kpis").innerHTML = [
      kpi(finite(d.hhi) ? num(d.hhi, 0) : "–", "HHI (0–10,000)", "Herfindahl–Hirschman index of country shares; above 2,500 is highly concentrated"),
      kpi(pct(d.top3_share), "top-3 share"),
      kpi(top ? `${esc(top.iso3)} ${pct(top.share, 0)}` : "–", "largest producer"),
      kpi(finite(d.world_total) ? `${num(d.world_total)} ${esc(unit)}` : "–", "world total", `world total: ${d.world_basis || ""}`),
      kpi(finite(d.hhi_wgi) ? num(d.hhi_wgi, 2) : "–", "HHI × governance (0–10)", "HHI weighted by the producers' governance risk (WGI, 0 best to 10 worst), as in the EU criticality method"),
      kpi(esc(String(d.year)), "data year"),
    ].join("");
    $("map-table").querySelector("tbody").innerHTML = rows
      .map(
        (r, i) =>
          `<tr data-iso3="${esc(r.iso3)}"><td class="r">${i + 1}</td><td>${esc(r.name)} <span class="muted small">${esc(r.iso3)}</span></td>` +
          `<td class="r">${quantityText(r.quantity, unit)}</td><td class="r">${pct(r.share)}</td>` +
          `<td class="r">${finite(r.wgi_scaled) ? r.wgi_scaled.toFixed(1) : "–"}</td></tr>`,
      )
      .join("");
    for (const tr of $("map-table").querySelectorAll("tbody tr")) {
      tr.addEventListener("mouseenter", () => c.dispatchAction({ type: "highlight", seriesIndex: 0, name: tr.dataset.iso3 }));
      tr.addEventListener("mouseleave", () => c.dispatchAction({ type: "downplay", seriesIndex: 0, name: tr.dataset.iso3 }));
    }
    $("map-notes").innerHTML = (d.notes || []).map((n) => `<li>${esc(n)}</li>`).join("");
    $("map-source").innerHTML =
      `<b>Source:</b> ${esc(d.source)}${d.source_id ? ` <span class="muted">[${esc(d.source_id)}]</span>` : ""}. ` +
      `Quantities in ${esc(unit)}; shares of the world total. Governance risk: Worldwide Governance Indicators${d.wgi_year ? ` ${esc(d.wgi_year)}` : ""}, scaled 0 (best) to 10 (worst). ` +
      `Grey: not among the listed producers; beige: listed without a published figure.`;
  }
  const kpi = (v, k, title) => `<div class="kpi"${title ? ` title="${esc(title)}"` : ""}><div class="v">${v}</div><div class="k">${k}</div></div>`;

  // ================================================================ FLOWS

  let flowsSeq = 0;
  init.flows = async () => {
    const ysel = $("flows-year");
    const years = [];
    for (let y = 2025; y <= 2040; y++) years.push(y);
    ysel.innerHTML = years.map((y) => `<option value="${y}">${y}</option>`).join("");
    ysel.value = "2025";
    ysel.addEventListener("change", loadFlows);
    $("flows-good").addEventListener("change", loadFlows);
    $("flows-min-share").addEventListener("change", loadFlows);
    $("flows-load").addEventListener("click", loadFlows);
    try {
      const list = await ensureGoods();
      const chains = new Map();
      for (const g of list) {
        if (!chains.has(g.chain)) chains.set(g.chain, []);
        chains.get(g.chain).push(g);
      }
      $("flows-good").innerHTML = [...chains]
        .map(
          ([chain, gs]) =>
            `<optgroup label="${esc(chain.replace(/_/g, " "))}">` +
            // A chain's final goods (no plant uses them) first: they end a Sankey.
            [...gs]
              .sort((a, b) => Number(a.input) - Number(b.input))
              .map(
                (g) =>
                  `<option value="${esc(g.id)}">${esc(g.name)}${g.input ? "" : " — final"}</option>`,
              )
              .join("") +
            "</optgroup>",
        )
        .join("");
      $("flows-good").value = goods.has("ndfeb_magnet") ? "ndfeb_magnet" : list[0]?.id;
      await loadFlows();
    } catch (e) {
      showError("flows-error", e);
    }
  };

  async function loadFlows() {
    const seq = ++flowsSeq;
    clearError("flows-error");
    const good = $("flows-good").value;
    const year = $("flows-year").value;
    const minShare = $("flows-min-share").value.trim();
    let url = `/api/sankey/${enc(good)}?year=${enc(year)}`;
    if (minShare) url += `&min_share=${enc(minShare)}`;
    try {
      const d = await api(url);
      if (seq !== flowsSeq) return;
      renderFlows(d);
    } catch (e) {
      if (seq !== flowsSeq) return;
      showError("flows-error", e);
      $("flows-title").textContent = "";
      $("flows-chain").textContent = "";
      $("flows-note").textContent = "";
      const c = echarts.getInstanceByDom($("flows-chart"));
      if (c) c.clear();
    }
  }

  function renderFlows(d) {
    $("flows-title").textContent = `${goodName(d.good)}: flows from mine to final use, ${d.year}`;
    $("flows-chain").innerHTML =
      `<b>Chain</b> (final good first): ` + d.chain.map((g) => `<span title="${esc(goodName(g))}">${esc(g)}</span>`).join(" ← ") +
      `. Nodes are “good · region”; “used” is final consumption.`;
    const c = chart("flows-chart");
    if (!d.nodes.length || !d.links.length) {
      c.clear();
      setOpt(c, {
        title: { text: "No flows for this good and year in the model.", left: "center", top: "middle", textStyle: { color: "#888", fontSize: 14, fontWeight: "normal" } },
      });
      $("flows-note").textContent = "";
      return;
    }
    const color = {};
    d.chain.forEach((g, i) => (color[g] = COLORS[i % COLORS.length]));
    color.used = "#555";
    // A node's throughput in its own units: what it ships out (or, for consumers, takes in).
    const qin = {}, qout = {};
    for (const l of d.links) {
      qout[l.source] = (qout[l.source] || 0) + (l.good === nodeGood(d, l.source) ? l.quantity : 0);
      qin[l.target] = (qin[l.target] || 0) + (l.good === nodeGood(d, l.target) || nodeGood(d, l.target) === "used" ? l.quantity : 0);
    }
    // Node values (USD): the larger of what flows in and out. Tiny nodes keep their tooltip
    // but lose their label, so the labels of the ones that matter stay legible.
    const vin = {}, vout = {};
    for (const l of d.links) {
      vout[l.source] = (vout[l.source] || 0) + l.value;
      vin[l.target] = (vin[l.target] || 0) + l.value;
    }
    const nodeValue = (name) => Math.max(vin[name] || 0, vout[name] || 0);
    const biggest = Math.max(...d.nodes.map((n) => nodeValue(n.name)));
    const nodes = d.nodes.map((n) => ({
      name: n.name,
      good: n.good,
      region: n.region,
      itemStyle: { color: color[n.good] || "#999" },
      ...(nodeValue(n.name) < biggest * 0.004 ? { label: { show: false } } : {}),
    }));
    const links = d.links.map((l) => ({ source: l.source, target: l.target, value: l.value, good: l.good, quantity: l.quantity }));
    setOpt(c, 
      {
        tooltip: {
          trigger: "item",
          confine: true,
          formatter: (p) => {
            if (p.dataType === "edge") {
              const l = p.data;
              return (
                `<b>${esc(l.source)} → ${esc(l.target)}</b><br>${esc(goodName(l.good))}<br>` +
                `quantity: <b>${num(l.quantity)} ${esc(goodUnit(l.good))}</b> a year<br>value: <b>${usd(l.value)}</b>`
              );
            }
            const n = p.data;
            if (n.good === "used") return `<b>${esc(n.region)}</b>: final use<br>value received: <b>${usd(p.value)}</b>`;
            const q = qout[n.name] || qin[n.name] || 0;
            return (
              `<b>${esc(goodName(n.good))}</b> in <b>${esc(n.region)}</b><br>` +
              `quantity: <b>${num(q)} ${esc(goodUnit(n.good))}</b> a year<br>value: <b>${usd(p.value)}</b>` +
              (p.data.label && p.data.label.show === false ? `<br><span style="color:#888">(small: label hidden)</span>` : "")
            );
          },
        },
        series: [
          {
            type: "sankey",
            animation: false,
            nodeAlign: "right",
            left: 8,
            right: 150,
            top: 8,
            bottom: 8,
            nodeWidth: 12,
            nodeGap: 7,
            layoutIterations: 48,
            draggable: false,
            emphasis: { focus: "adjacency" },
            label: { fontSize: 11, color: "#243040" },
            lineStyle: { color: "source", curveness: 0.5, opacity: 0.32 },
            data: nodes,
            links,
          },
        ],
      },
      true,
    );
    $("flows-note").innerHTML =
      `Link width is the flow's value in USD (model prices, ${esc(d.year)} baseline); tooltips give quantities in each good's unit. ` +
      `${d.nodes.length} nodes, ${d.links.length} links (labels of the smallest nodes hidden: hover for details). ` +
      (finite(d.omitted_value) && d.omitted_value > 0
        ? `Smaller flows left out (below the minimum share): <b>${usd(d.omitted_value)}</b> in all.`
        : "No flow left out.") +
      ` Source: the model's baseline simulation.`;
  }
  function nodeGood(d, name) {
    const i = name.lastIndexOf(" · ");
    return i > 0 ? name.slice(0, i) : name;
  }

  // ================================================================ SCENARIO

  const editor = $("editor");
  const gutter = $("gutter");
  const STORE_KEY = "chokepoint.scenario";
  const LINE_PX = 18;
  let diagByLine = new Map();
  let valSeq = 0;
  let valTimer = null;
  let lastValidation = null;

  function renderGutter() {
    const n = editor.value.split("\n").length;
    let html = "";
    for (let i = 1; i <= n; i++) {
      const ds = diagByLine.get(i);
      html += ds
        ? `<div class="ln err" data-line="${i}" title="${esc(ds.map((d) => d.message).join("\n"))}">${i}</div>`
        : `<div class="ln" data-line="${i}">${i}</div>`;
    }
    html += `<div style="height:60px"></div>`;
    gutter.innerHTML = html;
    gutter.scrollTop = editor.scrollTop;
  }
  editor.addEventListener("scroll", () => (gutter.scrollTop = editor.scrollTop));
  gutter.addEventListener("click", (e) => {
    const ln = e.target.closest(".ln.err");
    if (ln) selectLine(+ln.dataset.line);
  });

  function selectLine(line, col) {
    const lines = editor.value.split("\n");
    if (!(line >= 1 && line <= lines.length)) return;
    let start = 0;
    for (let i = 0; i < line - 1; i++) start += lines[i].length + 1;
    const end = start + lines[line - 1].length;
    editor.focus();
    editor.setSelectionRange(start, end);
    editor.scrollTop = Math.max(0, (line - 1) * LINE_PX - editor.clientHeight / 3);
    gutter.scrollTop = editor.scrollTop;
    void col;
  }

  function setEditorText(text) {
    editor.value = text;
    onEditorChange();
  }
  function onEditorChange() {
    renderGutter();
    try {
      localStorage.setItem(STORE_KEY, editor.value);
    } catch (_) {
      /* storage may be off */
    }
    clearTimeout(valTimer);
    valTimer = setTimeout(() => validate(), 600);
  }
  editor.addEventListener("input", onEditorChange);
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Tab" && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      const s = editor.selectionStart;
      editor.setRangeText("    ", s, editor.selectionEnd, "end");
      onEditorChange();
    }
  });

  async function loadSeed() {
    clearError("run-error");
    try {
      const text = await api("/api/examples/seed", { text: true });
      setEditorText(text);
      clearTimeout(valTimer);
      await validate();
    } catch (e) {
      showError("run-error", e);
    }
  }

  /** Makes sure the editor holds a scenario (loads the seed into an empty one). */
  async function ensureScenarioText() {
    if (!editor.value.trim()) {
      let stored = null;
      try {
        stored = localStorage.getItem(STORE_KEY);
      } catch (_) {
        /* storage may be off */
      }
      if (stored && stored.trim()) {
        setEditorText(stored);
      } else {
        await loadSeed();
      }
    }
    return editor.value;
  }

  async function validate() {
    clearTimeout(valTimer);
    const seq = ++valSeq;
    const text = editor.value;
    const st = $("check-status");
    if (!text.trim()) {
      diagByLine = new Map();
      renderGutter();
      $("diagnostics").innerHTML = "";
      st.className = "check-status muted";
      st.dataset.ok = "";
      st.textContent = "The editor is empty: load the seed scenario or write one.";
      $("scenario-events").querySelector("tbody").innerHTML = "";
      $("scenario-events-count").textContent = "";
      return null;
    }
    st.className = "check-status muted";
    st.textContent = "Checking…";
    let v;
    try {
      v = await api("/api/scenarios/validate", { method: "POST", body: text });
    } catch (e) {
      if (seq === valSeq) {
        st.className = "check-status err";
        st.dataset.ok = "";
        st.textContent = `Could not check: ${e.message}${e.hints?.length ? ` (${e.hints.join("; ")})` : ""}`;
      }
      return null;
    }
    if (seq === valSeq) renderDiagnostics(v);
    return v;
  }

  function renderDiagnostics(v) {
    lastValidation = v;
    const st = $("check-status");
    const list = $("diagnostics");
    diagByLine = new Map();
    if (v.ok) {
      st.className = "check-status ok";
      st.dataset.ok = "true";
      st.textContent = `✓ “${v.name}” checks out: ${v.events.length} event${v.events.length === 1 ? "" : "s"}.`;
      list.innerHTML = "";
    } else {
      const ds = v.diagnostics || [];
      st.className = "check-status err";
      st.dataset.ok = "false";
      st.textContent = `✗ ${ds.length} problem${ds.length === 1 ? "" : "s"} — click one to go to its line.`;
      for (const d of ds) {
        if (!diagByLine.has(d.line)) diagByLine.set(d.line, []);
        diagByLine.get(d.line).push(d);
      }
      list.innerHTML = ds
        .map(
          (d) =>
            `<li data-testid="diagnostic" data-line="${d.line}" data-col="${d.col}" title="Go to line ${d.line}">` +
            `<span class="loc">${d.line}:${d.col}</span>${esc(d.message)}${d.hint ? ` <span class="hint">— ${esc(d.hint)}</span>` : ""}</li>`,
        )
        .join("");
    }
    renderGutter();
    updateScenarioNames();
    const evs = v.ok ? v.events || [] : [];
    $("scenario-events-count").textContent = v.ok ? `(${evs.length})` : "";
    $("scenario-events").querySelector("tbody").innerHTML = v.ok
      ? evs.map(([id, kind], i) => `<tr><td class="r">${i + 1}</td><td>${esc(id)}</td><td>${esc(String(kind).replace(/_/g, " "))}</td></tr>`).join("")
      : `<tr><td colspan="3" class="muted">Fix the problems to see the scenario's events.</td></tr>`;
  }
  $("diagnostics").addEventListener("click", (e) => {
    const li = e.target.closest("li[data-line]");
    if (li) selectLine(+li.dataset.line, +li.dataset.col);
  });

  function updateScenarioNames() {
    const name = lastValidation?.ok ? `“${lastValidation.name}”` : editor.value.trim() ? "the editor's scenario (not yet valid)" : "none";
    const text = `Scenario: ${name} — taken from the Scenario tab's editor; edit it there.`;
    $("risk-scenario").textContent = text;
    $("finance-scenario").textContent = text;
  }

  let running = false;
  async function runScenario() {
    if (running) return;
    running = true;
    $("run").disabled = true;
    clearError("run-error");
    try {
      const v = await validate();
      if (!v) {
        setStatus("run-status", "Nothing to run: the scenario could not be checked.", "");
        return;
      }
      if (!v.ok) {
        setStatus("run-status", "Fix the problems listed under the editor, then Run again.", "");
        return;
      }
      let created;
      try {
        created = await api("/api/runs", { method: "POST", body: editor.value });
      } catch (e) {
        if (e.body && e.body.diagnostics) renderDiagnostics(e.body);
        showError("run-error", e);
        setStatus("run-status", "The run was not accepted.", "");
        return;
      }
      const id = created.id;
      runsDirty = true;
      setStatus("run-status", `Run ${id} queued…`, "queued");
      $("run-status").dataset.run = id;
      setProgress("run-progress", null);
      const t0 = Date.now();
      const fin = await follow(`/api/runs/${id}/events`, `/api/runs/${id}`, (p) => {
        const frac = p.total ? ((p.run === "scenario" ? 1 : 0) + p.done / p.total) / 2 : null;
        setProgress("run-progress", frac);
        setStatus("run-status", `Run ${id} running: ${p.run} ${p.done}/${p.total} quarters`, "running");
      });
      runsDirty = true;
      const secs = ((Date.now() - t0) / 1000).toFixed(0);
      $("run-progress").hidden = true;
      if (fin.status !== "done") {
        setStatus("run-status", `Run ${id} ${fin.status}${fin.error ? `: ${fin.error}` : ""}`, fin.status);
        if (fin.error) showError("run-error", new ApiError(0, fin.error, []));
        return;
      }
      setStatus("run-status", `Run ${id} done in ${secs} s.`, "done");
      const out = await api(`/api/runs/${id}`);
      renderRunResults($("scenario-results"), out, "scn");
      $("scenario-results").scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (e) {
      showError("run-error", e);
    } finally {
      running = false;
      $("run").disabled = false;
    }
  }

  init.scenario = async () => {
    $("load-seed").addEventListener("click", loadSeed);
    $("check").addEventListener("click", () => validate());
    $("run").addEventListener("click", runScenario);
    renderGutter();
    await ensureScenarioText();
  };

  // ---------------------------------------------------------------- run results (shared)

  /** Renders a run ({run, summary}) into `root`: answers, price moves, three charts. */
  function renderRunResults(root, out, prefix) {
    const run = out.run;
    const s = out.summary;
    if (run.status !== "done" || !s) {
      root.innerHTML =
        `<div class="results-head"><h3>Run ${run.id}: “${esc(run.name)}” — ${statusSpan(run.status)}</h3></div>` +
        (run.error ? `<div class="error-box">${esc(run.error)}</div>` : `<p class="muted">No results yet.</p>`);
      return;
    }
    const series = s.series || [];
    const periods = series[0]?.periods || [];
    const moves = [...(s.price_moves || [])].sort((a, b) => Math.abs(b.change) - Math.abs(a.change));
    const defGood = moves.find((m) => series.some((x) => x.good === m.good))?.good || series[0]?.good;
    // Distinct goods' largest moves for the table.
    const seen = new Set();
    const topMoves = [];
    for (const m of moves) {
      const k = `${m.good}|${m.period}|${m.change.toFixed(6)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      topMoves.push(m);
      if (topMoves.length >= 8) break;
    }
    const answers = s.answers || [];
    root.innerHTML = `
      <div class="results-head">
        <h3 data-testid="results-title">Run ${run.id}: “${esc(run.name)}” — ${statusSpan(run.status)}</h3>
        <span class="muted small">${esc(s.quarters ?? periods.length)} quarters, ${esc(periods[0] || "")}–${esc(periods[periods.length - 1] || "")}; ${esc((s.events || []).length)} events; demand path “${esc(s.demand ?? "")}”</span>
        <a href="/api/runs/${run.id}/report" target="_blank" rel="noopener" data-testid="report-link">Full report (HTML) ↗</a>
      </div>
      <div class="two-col">
        <div>
          <h3>The questions the scenario answers</h3>
          <table class="data answers" data-testid="answers-table">
            <thead><tr><th>Question</th><th>Answer</th><th class="r">Value</th></tr></thead>
            <tbody>${
              answers.length
                ? answers
                    .map(
                      (a) =>
                        `<tr data-key="${esc(a.key)}"><td>${esc(a.question)}</td><td>${esc(a.answer)}</td><td class="r">${num(a.value)} ${esc(a.unit)}</td></tr>`,
                    )
                    .join("")
                : `<tr><td colspan="3" class="muted">No question applies over this horizon.</td></tr>`
            }</tbody>
          </table>
        </div>
        <div>
          <h3>Largest price moves <span class="unit">(scenario against baseline, in a quarter)</span></h3>
          <table class="data" data-testid="moves-table">
            <thead><tr><th>Good</th><th>Where</th><th>Quarter</th><th class="r">Baseline</th><th class="r">Scenario</th><th class="r">Change</th></tr></thead>
            <tbody>${
              topMoves.length
                ? topMoves
                    .map((m) => {
                      const regions = moves.filter((x) => x.good === m.good && x.period === m.period && Math.abs(x.change - m.change) < 1e-6).map((x) => x.region);
                      return (
                        `<tr><td title="${esc(goodName(m.good))}">${esc(m.good)}</td><td>${esc(regions.length > 3 ? `${regions.slice(0, 3).join(", ")} +${regions.length - 3}` : regions.join(", "))}</td>` +
                        `<td>${esc(m.period)}</td><td class="r">${num(m.baseline)}</td><td class="r">${num(m.scenario)}</td>` +
                        `<td class="r ${m.change > 0 ? "pos" : "neg"}">${m.change > 0 ? "+" : ""}${pct(m.change)}</td></tr>`
                      );
                    })
                    .join("")
                : `<tr><td colspan="6" class="muted">No price moved.</td></tr>`
            }</tbody>
          </table>
          <p class="muted small">Prices in USD per unit of the good (tonnes unless the good says otherwise).</p>
        </div>
      </div>
      <div class="results-head" style="border:0;padding-top:4px">
        <label class="muted">Good <select id="${prefix}-series-good" data-testid="series-good">${series
          .map((x) => `<option value="${esc(x.good)}">${esc(goodName(x.good))} (${esc(x.good)})</option>`)
          .join("")}</select></label>
        <span class="muted small">World totals by quarter, baseline against scenario. Source: this run's simulation.</span>
      </div>
      <div class="chart-row">
        <div class="card"><h4 id="${prefix}-t-price">Price</h4><div class="chart chart-line" id="${prefix}-chart-price" data-testid="chart-price"></div></div>
        <div class="card"><h4 id="${prefix}-t-shortfall">Shortfall</h4><div class="chart chart-line" id="${prefix}-chart-shortfall" data-testid="chart-shortfall"></div></div>
        <div class="card"><h4 id="${prefix}-t-inventory">Inventory</h4><div class="chart chart-line" id="${prefix}-chart-inventory" data-testid="chart-inventory"></div></div>
      </div>`;
    const sel = $(`${prefix}-series-good`);
    if (defGood) sel.value = defGood;
    const draw = () => {
      const x = series.find((g) => g.good === sel.value);
      if (!x) return;
      const u = goodUnit(x.good);
      lineChart(`${prefix}-chart-price`, `${prefix}-t-price`, `Price — USD per ${u}`, x, "price", `USD/${u}`);
      lineChart(`${prefix}-chart-shortfall`, `${prefix}-t-shortfall`, `Shortfall — ${u} per quarter`, x, "shortfall", `${u}/quarter`);
      lineChart(`${prefix}-chart-inventory`, `${prefix}-t-inventory`, `Inventory — ${u}`, x, "inventory", u);
    };
    sel.addEventListener("change", draw);
    draw();
    root.insertAdjacentHTML("beforeend", beforeAfter(s));
  }

  /** Companies, EU and USGS criticality and exposure traces of a run, baseline against scenario. */
  function beforeAfter(s) {
    const companies = [...(s.companies || [])].sort((a, b) => Math.abs(b.change) - Math.abs(a.change));
    const crit = s.criticality;
    const usd = (v) => (finite(v) ? num(v / 1e6) : "–");
    const change = (v) => (finite(v) ? `<span class="${v > 0 ? "pos" : v < 0 ? "neg" : ""}">${v > 0 ? "+" : ""}${pct(v)}</span>` : "–");
    const companyRows = companies.length
      ? companies
          .map(
            (c) =>
              `<tr><td>${esc(c.company)} <span class="muted">${esc(c.ticker)}</span></td><td class="r">${usd(c.baseline_revenue)}</td>` +
              `<td class="r">${usd(c.scenario_revenue)}</td><td class="r">${change(c.change)}</td></tr>`,
          )
          .join("")
      : `<tr><td colspan="4" class="muted">No company's assets are in this run.</td></tr>`;
    let critRows = `<tr><td colspan="5" class="muted">Not scored for this run.</td></tr>`;
    if (crit && (crit.baseline || []).length) {
      const after = new Map((crit.scenario || []).map((m) => [m.material, m]));
      critRows = crit.baseline
        .map((b) => {
          const a = after.get(b.material) || {};
          const flag = (c) => (c === true ? "critical" : c === false ? "–" : "?");
          return (
            `<tr><td>${esc(b.material)}</td><td class="r">${num(b.sr, 2)}</td><td class="r">${num(a.sr, 2)}</td>` +
            `<td class="r">${finite(b.ei) ? num(b.ei, 2) : "–"}</td><td>${flag(b.critical)} → ${flag(a.critical)}</td></tr>`
          );
        })
        .join("");
    }
    const usgs = s.criticality_usgs;
    let usgsRows = `<tr><td colspan="6" class="muted">Not scored for this run.</td></tr>`;
    if (usgs && (usgs.baseline || []).length) {
      const after = new Map((usgs.scenario || []).map((m) => [m.material, m]));
      const flag = (c) => (c === true ? "on list" : c === false ? "–" : "?");
      usgsRows = usgs.baseline
        .map((b) => {
          const a = after.get(b.material) || {};
          if (!finite(b.sr)) {
            return `<tr><td>${esc(b.material)}</td><td colspan="5" class="muted" title="${esc(b.note || "")}">not scored</td></tr>`;
          }
          const stage = (m) => (m.stages || []).find((x) => x.stage === b.bottleneck) || {};
          const [sb, sa] = [stage(b), stage(a)];
          return (
            `<tr><td>${esc(b.material)}</td><td class="r">${num(sb.te, 2)} → ${num(sa.te, 2)}</td>` +
            `<td class="r">${num(sb.ev, 2)} → ${num(sa.ev, 2)}</td><td class="r">${num(b.sr, 2)} → ${num(a.sr, 2)}</td>` +
            `<td class="r">${finite(b.sr_published) ? num(b.sr_published, 2) : "–"}</td><td>${flag(b.critical)} → ${flag(a.critical)}</td></tr>`
          );
        })
        .join("");
    }
    const top = (stage) =>
      (stage?.origins || [])
        .slice(0, 3)
        .map(([r, v]) => `${esc(r)} ${pct(v, 0)}`)
        .join(", ") || "–";
    const expRows = (s.exposure || [])
      .flatMap((c) =>
        (c.baseline || []).map((t, i) => {
          const after = (c.scenario || [])[i];
          const first = t.stages?.[t.stages.length - 1];
          const firstAfter = after?.stages?.[after.stages.length - 1];
          return (
            `<tr><td>${esc(c.region)} ${esc(c.sector || "all uses")}</td><td>${esc(t.good)}</td>` +
            `<td>${esc(first?.good || "")}</td><td>${top(first)}</td><td>${top(firstAfter)}</td></tr>`
          );
        }),
      )
      .join("");
    return `
      <div class="two-col">
        <div>
          <h3>Companies <span class="unit">(revenue from their assets over the run, USD m)</span></h3>
          <table class="data" data-testid="companies-table">
            <thead><tr><th>Company</th><th class="r">Baseline</th><th class="r">Scenario</th><th class="r">Change</th></tr></thead>
            <tbody>${companyRows}</tbody>
          </table>
        </div>
        <div>
          <h3>Criticality, EU method <span class="unit">(${esc(crit?.jurisdiction || "EU")}, ${esc(crit?.year ?? "")}: supply risk before → after)</span></h3>
          <table class="data" data-testid="criticality-table">
            <thead><tr><th>Material</th><th class="r">SR baseline</th><th class="r">SR scenario</th><th class="r">EI</th><th>Verdict</th></tr></thead>
            <tbody>${critRows}</tbody>
          </table>
        </div>
      </div>
      <h3>Criticality, USGS method <span class="unit">(${esc(usgs?.jurisdiction || "USA")}, ${esc(usgs?.year ?? "")}: trade exposure, economic vulnerability and supply risk before → after; SR = (DP·TE·EV)^⅓, list at 0.40)</span></h3>
      <table class="data" data-testid="usgs-table">
        <thead><tr><th>Material</th><th class="r">TE</th><th class="r">EV</th><th class="r">SR</th><th class="r">SR 2022 list</th><th>Verdict</th></tr></thead>
        <tbody>${usgsRows}</tbody>
      </table>
      <h3>Where the inputs come from <span class="unit">(the header's consumers, traced to the first stage of each chain, last year of the run; top 3 origins)</span></h3>
      <table class="data" data-testid="exposure-table">
        <thead><tr><th>Consumer</th><th>Good</th><th>First stage</th><th>Baseline</th><th>Scenario</th></tr></thead>
        <tbody>${expRows || `<tr><td colspan="5" class="muted">The scenario's header lists no consumers to trace (key <code>exposure</code>).</td></tr>`}</tbody>
      </table>`;
  }

  function lineChart(id, titleId, title, x, key, unit) {
    $(titleId).textContent = title;
    const c = chart(id);
    setOpt(c, 
      {
        color: ["#8a96a3", "#d95f02"],
        tooltip: { trigger: "axis", valueFormatter: (v) => `${num(v)} ${unit}` },
        legend: { top: 0, right: 0, textStyle: { fontSize: 11 } },
        grid: { left: 8, right: 14, top: 28, bottom: 4, containLabel: true },
        xAxis: { type: "category", data: x.periods, axisLabel: { fontSize: 10 } },
        yAxis: { type: "value", scale: key === "price", axisLabel: { ...axisLabelNum, fontSize: 10 } },
        series: [
          { name: "Baseline", type: "line", data: x.baseline?.[key] ?? [], symbolSize: 4, lineStyle: { type: "dashed", width: 2 } },
          { name: "Scenario", type: "line", data: x.scenario?.[key] ?? [], symbolSize: 4, lineStyle: { width: 2.5 } },
        ],
      },
      true,
    );
  }

  // ================================================================ RUNS

  let runsDirty = true;
  let runsTimer = null;
  let runsList = [];
  let selectedRun = null;

  init.runs = async () => {
    $("runs-refresh").addEventListener("click", () => loadRuns());
    $("compare-btn").addEventListener("click", compareRuns);
    $("runs-table").addEventListener("click", (e) => {
      const tr = e.target.closest("tr[data-run-id]");
      if (tr) showRun(+tr.dataset.runId);
    });
    await ensureGoods().catch(() => {});
    await loadRuns();
  };
  onShow.runs = () => {
    if (runsDirty) loadRuns();
  };

  async function loadRuns() {
    clearTimeout(runsTimer);
    clearError("runs-error");
    try {
      runsList = await api("/api/runs");
    } catch (e) {
      showError("runs-error", e);
      return;
    }
    runsDirty = false;
    const tbody = $("runs-table").querySelector("tbody");
    tbody.innerHTML = runsList.length
      ? runsList
          .map(
            (r) =>
              `<tr data-run-id="${r.id}" data-status="${esc(r.status)}" class="${r.id === selectedRun ? "selected" : ""}" title="Show run ${r.id}">` +
              `<td>#${r.id}</td><td>${esc(r.name)}</td><td class="run-status">${statusSpan(r.status)}${r.error ? ` <span class="err small">${esc(r.error)}</span>` : ""}</td>` +
              `<td>${when(r.created)}</td><td class="r">${r.finished ? `${r.finished - r.created} s` : "–"}</td></tr>`,
          )
          .join("")
      : `<tr><td colspan="5" class="muted">No runs yet: run a scenario in the Scenario tab.</td></tr>`;
    const done = runsList.filter((r) => r.status === "done");
    for (const [id, idx] of [["cmp-a", 1], ["cmp-b", 0]]) {
      const sel = $(id);
      const prev = sel.value;
      sel.innerHTML = done.map((r) => `<option value="${r.id}">#${r.id} ${esc(r.name)}</option>`).join("");
      if (done.some((r) => String(r.id) === prev)) sel.value = prev;
      else if (done.length) sel.value = String(done[Math.min(idx, done.length - 1)].id);
    }
    $("compare-btn").disabled = done.length === 0;
    if (runsList.some((r) => PENDING.has(r.status)) && location.hash === "#runs") {
      runsTimer = setTimeout(loadRuns, 3000);
    }
  }

  async function showRun(id) {
    selectedRun = id;
    for (const tr of $("runs-table").querySelectorAll("tbody tr")) tr.classList.toggle("selected", +tr.dataset.runId === id);
    clearError("runs-error");
    try {
      const out = await api(`/api/runs/${id}`);
      renderRunResults($("runs-results"), out, "runs");
      $("runs-results").scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (e) {
      showError("runs-error", e);
    }
  }

  async function compareRuns() {
    clearError("compare-error");
    const a = $("cmp-a").value;
    const b = $("cmp-b").value;
    if (!a || !b) {
      showError("compare-error", new ApiError(0, "Choose two finished runs.", []));
      return;
    }
    try {
      const c = await api(`/api/compare?a=${enc(a)}&b=${enc(b)}`);
      $("compare-out").innerHTML =
        `<table class="data" id="compare-table" data-testid="compare-table"><thead><tr><th>Question</th>` +
        `<th class="r" title="${esc(c.a.name)}">A: run #${c.a.id}</th><th class="r" title="${esc(c.b.name)}">B: run #${c.b.id}</th>` +
        `<th class="r">B − A</th><th>Unit</th></tr></thead><tbody>` +
        (c.answers.length
          ? c.answers
              .map((x) => {
                const diff = finite(x.a) && finite(x.b) ? x.b - x.a : null;
                return (
                  `<tr data-key="${esc(x.key)}"><td>${esc(x.question)}</td><td class="r">${num(x.a)}</td><td class="r">${num(x.b)}</td>` +
                  `<td class="r ${diff > 0 ? "pos" : diff < 0 ? "neg" : ""}">${diff == null ? "–" : `${diff > 0 ? "+" : ""}${num(diff)}`}</td><td>${esc(x.unit)}</td></tr>`
                );
              })
              .join("")
          : `<tr><td colspan="5" class="muted">Neither run answers any question.</td></tr>`) +
        `</tbody></table><p class="muted small">A: “${esc(c.a.name)}”; B: “${esc(c.b.name)}”. A missing value (–): the question does not apply to that run.</p>`;
    } catch (e) {
      showError("compare-error", e);
    }
  }

  // ================================================================ JOBS (risk and finance)

  async function fillJobs(kind) {
    const sel = $(`${kind}-jobs`);
    try {
      const jobs = (await api("/api/jobs")).filter((j) => j.kind === kind);
      sel.innerHTML =
        `<option value="">—</option>` +
        jobs
          .map((j) => {
            const o = Object.entries(j.options || {})
              .filter(([, v]) => v != null)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ");
            return `<option value="${j.id}">#${j.id} ${esc(j.status)} · ${esc(o)}</option>`;
          })
          .join("");
    } catch (_) {
      /* the list is a convenience */
    }
  }

  async function startJob(kind, params, render) {
    const btn = $(`${kind}-start`);
    btn.disabled = true;
    clearError(`${kind}-error`);
    try {
      const text = await ensureScenarioText();
      const qs = Object.entries(params)
        .filter(([, v]) => v !== "" && v != null)
        .map(([k, v]) => `${k}=${enc(v)}`)
        .join("&");
      let created;
      try {
        created = await api(`/api/${kind}${qs ? `?${qs}` : ""}`, { method: "POST", body: text });
      } catch (e) {
        if (e.body && e.body.diagnostics) {
          renderDiagnostics(e.body);
          e.hints = [...(e.hints || []), "Fix the scenario in the Scenario tab."];
        }
        showError(`${kind}-error`, e);
        setStatus(`${kind}-status`, "Not started.", "");
        return;
      }
      const id = created.id;
      setStatus(`${kind}-status`, `Job ${id} queued…`, "queued");
      $(`${kind}-status`).dataset.job = id;
      setProgress(`${kind}-progress`, null);
      const t0 = Date.now();
      const fin = await follow(`/api/jobs/${id}/events`, `/api/jobs/${id}`, (p) => {
        setProgress(`${kind}-progress`, p.total ? p.done / p.total : null);
        setStatus(`${kind}-status`, `Job ${id} running: ${p.run} ${p.done}/${p.total}`, "running");
      });
      $(`${kind}-progress`).hidden = true;
      await showJob(kind, id, render, ((Date.now() - t0) / 1000).toFixed(0), fin);
      fillJobs(kind);
    } catch (e) {
      showError(`${kind}-error`, e);
    } finally {
      btn.disabled = false;
    }
  }

  async function showJob(kind, id, render, secs, fin) {
    clearError(`${kind}-error`);
    const out = await api(`/api/jobs/${id}`);
    const job = out.job;
    if (job.status !== "done" || !out.result) {
      setStatus(`${kind}-status`, `Job ${id} ${job.status}${job.error ? `: ${job.error}` : ""}`, job.status);
      if (job.error || fin?.error) showError(`${kind}-error`, new ApiError(0, job.error || fin.error, []));
      $(`${kind}-results`).hidden = true;
      return;
    }
    setStatus(`${kind}-status`, `Job ${id} done${secs != null ? ` in ${secs} s` : ""} (“${job.name}”).`, "done");
    $(`${kind}-results`).hidden = false;
    await ensureGoods().catch(() => {});
    render(out.result, job);
  }

  // ================================================================ RISK

  init.risk = async () => {
    $("risk-start").addEventListener("click", () =>
      startJob(
        "risk",
        {
          draws: $("risk-draws").value.trim(),
          threshold: $("risk-threshold").value.trim(),
          to: $("risk-to").value.trim(),
          seed: $("risk-seed").value.trim(),
        },
        renderRisk,
      ),
    );
    $("risk-jobs").addEventListener("change", (e) => {
      if (e.target.value) showJob("risk", +e.target.value, renderRisk).catch((err) => showError("risk-error", err));
    });
    updateScenarioNames();
    fillJobs("risk");
    await ensureGoods().catch(() => {});
    await ensureScenarioText();
    updateScenarioNames();
  };
  onShow.risk = () => {
    updateScenarioNames();
    fillJobs("risk");
  };

  function groupRows(rows, keyOf) {
    const groups = new Map();
    for (const r of rows) {
      const k = keyOf(r);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(r);
    }
    for (const g of groups.values()) g.sort((a, b) => a.year - b.year);
    return groups;
  }
  const maxP95 = (rows) => Math.max(...rows.map((r) => (finite(r.p95) ? r.p95 : -Infinity)));

  function renderRisk(res, job) {
    const s = res.summary;
    const sg = groupRows(s.shortfall || [], (r) => `${r.region}|${r.sector}|${r.good}`);
    const pg = groupRows(s.price || [], (r) => `${r.region}|${r.good}`);
    const sKeys = [...sg.keys()].sort((a, b) => maxP95(sg.get(b)) - maxP95(sg.get(a)));
    // Prices: those that vary across draws first (largest relative spread), then the rest.
    const spread = (rows) => Math.max(...rows.map((r) => (r.p50 ? (r.p95 - r.p5) / Math.abs(r.p50) : 0)));
    const pKeys = [...pg.keys()].sort((a, b) => spread(pg.get(b)) - spread(pg.get(a)) || a.localeCompare(b));

    const ssel = $("risk-shortfall-row");
    ssel.innerHTML = sKeys.length
      ? sKeys
          .map((k) => {
            const [region, sector, good] = k.split("|");
            return `<option value="${esc(k)}">${esc(region)} · ${esc(sector)} · ${esc(good)} (P95 ${num(maxP95(sg.get(k)))} ${esc(goodUnit(good))})</option>`;
          })
          .join("")
      : `<option value="">no shortfall in any draw</option>`;
    const psel = $("risk-price-row");
    psel.innerHTML = pKeys
      .map((k) => {
        const [region, good] = k.split("|");
        return `<option value="${esc(k)}">${esc(region)} · ${esc(good)}</option>`;
      })
      .join("");

    // Every year of the run: a shortfall row exists only where some draw added a shortfall,
    // so a missing year is one where none did (all quantiles 0).
    const years = [...new Set([...(s.shortfall || []), ...(s.price || [])].map((r) => r.year))].sort((a, b) => a - b);
    const everyYear = (rows) =>
      rows.length
        ? years.map((y) => rows.find((r) => r.year === y) || { year: y, p5: 0, p50: 0, p95: 0, mean: 0, p_exceed: 0 })
        : rows;
    const drawShortfall = () => {
      const k = ssel.value;
      const rows = everyYear(sg.get(k) || []);
      const [region, sector, good] = (k || "||").split("|");
      const u = goodUnit(good);
      fanChart("risk-shortfall-chart", rows, `${u} per year`);
      $("risk-shortfall-note").textContent = rows.length
        ? `Added shortfall of ${goodName(good)} for ${sector} in ${region}, against the baseline (${u} per year). ` +
          `P(exceed ${num(s.threshold)}): ${rows.map((r) => `${r.year} ${pct(r.p_exceed, 0)}`).join(", ")}.`
        : "No draw added a shortfall.";
      // Follow with the same market's price when there is one.
      const pk = `${region}|${good}`;
      if (pg.has(pk) && psel.value !== pk) {
        psel.value = pk;
        drawPrice();
      }
    };
    const drawPrice = () => {
      const k = psel.value;
      const rows = pg.get(k) || [];
      const [region, good] = (k || "|").split("|");
      const u = goodUnit(good);
      fanChart("risk-price-chart", rows, `USD per ${u}`);
      $("risk-price-note").textContent = rows.length ? `Price of ${goodName(good)} in ${region} (USD per ${u}, yearly mean over the draws' quarters).` : "";
    };
    ssel.onchange = drawShortfall;
    psel.onchange = drawPrice;
    if (pKeys.length) psel.value = pKeys[0];
    drawPrice();
    drawShortfall();

    $("risk-drivers").querySelector("tbody").innerHTML = (s.drivers || []).length
      ? s.drivers
          .map(
            (d) =>
              `<tr><td>${esc(d.event)}</td><td class="r">${pct(d.share_all, 0)}</td><td class="r ${d.share_tail > d.share_all ? "pos" : ""}">${pct(d.share_tail, 0)}</td></tr>`,
          )
          .join("")
      : `<tr><td colspan="3" class="muted">No uncertain event.</td></tr>`;
    const top = [...(s.shortfall || [])].sort((a, b) => b.p95 - a.p95).slice(0, 10);
    $("risk-top").querySelector("tbody").innerHTML = top.length
      ? top
          .map(
            (r) =>
              `<tr><td>${esc(r.region)}</td><td>${esc(r.sector)}</td><td>${esc(r.good)}</td><td class="r">${r.year}</td>` +
              `<td class="r">${num(r.p50)}</td><td class="r">${num(r.p95)}</td><td class="r">${pct(r.p_exceed, 0)}</td></tr>`,
          )
          .join("")
      : `<tr><td colspan="7" class="muted">No shortfall.</td></tr>`;
    const failed = s.failed || [];
    $("risk-failed").innerHTML = failed.length
      ? `<div class="error-box" data-testid="risk-failed-list"><strong>${failed.length} draw${failed.length === 1 ? "" : "s"} failed</strong> (replay one with <code>chokepoint risk --replay DRAW</code>):<ul>${failed
          .map(([d, st]) => `<li>draw ${esc(d)}: ${esc(st)}</li>`)
          .join("")}</ul></div>`
      : `<p class="ok small" data-testid="risk-no-failed">All ${esc(s.draws)} draws solved.</p>`;
    setStatus(
      "risk-status",
      `Job ${job.id} done: “${res.scenario}”, ${s.draws} draws, seed ${res.seed}, to ${res.to}, threshold ${num(s.threshold)}; tail draws: ${(s.tail_draws || []).join(", ") || "none"}.`,
      "done",
    );
  }

  function fanChart(id, rows, unit) {
    const c = chart(id);
    const years = rows.map((r) => String(r.year));
    const single = rows.length === 1;
    const series = [];
    if (single) {
      series.push({
        name: "P5–P95",
        type: "boxplot",
        data: rows.map((r) => [r.p5, r.p5, r.p50, r.p95, r.p95]),
        boxWidth: [30, 60],
        itemStyle: { color: "rgba(47,110,165,0.22)", borderColor: "#2f6ea5" },
        tooltip: { show: false },
      });
    } else {
      series.push(
        { name: "P5", type: "line", data: rows.map((r) => r.p5), stack: "band", symbol: "none", lineStyle: { opacity: 0 }, tooltip: { show: false } },
        {
          name: "P5–P95",
          type: "line",
          data: rows.map((r) => r.p95 - r.p5),
          stack: "band",
          symbol: "none",
          lineStyle: { opacity: 0 },
          areaStyle: { color: "rgba(47,110,165,0.22)" },
          itemStyle: { color: "rgba(47,110,165,0.45)" },
        },
      );
    }
    series.push(
      { name: "P50", type: "line", data: rows.map((r) => r.p50), symbolSize: 7, lineStyle: { width: 2.5, color: "#1f4e79" }, itemStyle: { color: "#1f4e79" } },
      { name: "Mean", type: "line", data: rows.map((r) => r.mean), symbolSize: 6, symbol: "diamond", lineStyle: { width: 2, type: "dashed", color: "#d95f02" }, itemStyle: { color: "#d95f02" } },
    );
    setOpt(c, 
      {
        tooltip: {
          trigger: "axis",
          formatter: (ps) => {
            const r = rows[ps[0]?.dataIndex ?? 0];
            if (!r) return "";
            return `<b>${r.year}</b><br>P95 ${num(r.p95)}<br>P50 ${num(r.p50)}<br>mean ${num(r.mean)}<br>P5 ${num(r.p5)}<br><span style="color:#888">${esc(unit)}; P(exceed) ${pct(r.p_exceed, 0)}</span>`;
          },
        },
        legend: { top: 0, data: [{ name: "P5–P95", icon: "rect" }, "P50", "Mean"], textStyle: { fontSize: 11 } },
        grid: { left: 10, right: 16, top: 30, bottom: 6, containLabel: true },
        xAxis: { type: "category", data: years, boundaryGap: single },
        yAxis: { type: "value", name: unit, nameTextStyle: { fontSize: 11, align: "left" }, scale: true, axisLabel: { ...axisLabelNum, fontSize: 10 } },
        series,
      },
      true,
    );
  }

  // ================================================================ FINANCE

  init.finance = async () => {
    $("finance-start").addEventListener("click", () =>
      startJob("finance", { draws: $("finance-draws").value.trim(), to: $("finance-to").value.trim() }, renderFinance),
    );
    $("finance-jobs").addEventListener("change", (e) => {
      if (e.target.value) showJob("finance", +e.target.value, renderFinance).catch((err) => showError("finance-error", err));
    });
    updateScenarioNames();
    fillJobs("finance");
    await ensureScenarioText();
    updateScenarioNames();
  };
  onShow.finance = () => {
    updateScenarioNames();
    fillJobs("finance");
  };

  /** A decimal year (2026.49) as YYYY-MM. */
  function decYear(t) {
    if (!finite(t)) return "–";
    const y = Math.floor(t);
    const m = Math.min(12, Math.round((t - y) * 12) + 1);
    return `${y}-${String(m).padStart(2, "0")}`;
  }
  const MODEL_NAMES = { gbm: "GBM", mean_reverting: "Mean-reverting", market: "Risk draws" };

  function renderFinance(r, job) {
    const ins = r.instruments || [];
    $("finance-head").textContent =
      `“${r.scenario}”, ${r.from} to ${r.to}. Present values at ${(r.public_rate * 100).toFixed(1)}% a year (public), projects at ${(r.project_rate * 100).toFixed(0)}%. ` +
      `Job ${job.id}: ${Object.entries(job.options || {})
        .filter(([, v]) => v != null)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}.`;
    const models = [];
    for (const v of ins) for (const d of v.draws || []) if (!models.includes(d.model)) models.push(d.model);
    const stats = ["mean", "p5", "p95", "max"];
    const statNames = { mean: "mean", p5: "P5", p50: "P50", p95: "P95", max: "worst" };
    const t = $("finance-instruments");
    t.querySelector("thead").innerHTML =
      `<tr><th rowspan="2">Instrument</th><th rowspan="2">Kind</th><th rowspan="2">Good</th><th rowspan="2" title="In force from (and until); the probability the event declares is drawn by risk runs, here it is in force">In force</th><th rowspan="2" class="r">Scenario path</th><th rowspan="2" class="r">Baseline path</th>` +
      models.map((m) => `<th colspan="${stats.length + 1}" class="r" style="text-align:center">${esc(MODEL_NAMES[m] || m)} price paths</th>`).join("") +
      `</tr><tr>` +
      models.map(() => stats.map((s) => `<th class="r">${statNames[s]}</th>`).join("") + `<th class="r" title="standard error of the mean">± s.e.</th>`).join("") +
      `</tr>`;
    t.querySelector("tbody").innerHTML = ins.length
      ? ins
          .map((v) => {
            const i = v.instrument;
            const cells = models
              .map((m) => {
                const d = (v.draws || []).find((x) => x.model === m);
                if (!d) return stats.map(() => `<td class="r">–</td>`).join("") + `<td class="r">–</td>`;
                return stats.map((s) => `<td class="r">${musd(d.net_cost?.[s])}</td>`).join("") + `<td class="r">${musd(d.std_error)}</td>`;
              })
              .join("");
            const title = `${i.kind} on ${i.good}${i.floor ? `, floor ${num(i.floor)}` : ""}${i.ceiling ? `, ceiling ${num(i.ceiling)}` : ""}; probability ${pct(i.probability, 0)}`;
            return (
              `<tr data-event="${esc(i.event)}"><td title="${esc(title)}">${esc(i.event)}</td><td>${esc(i.kind.replace(/_/g, " "))}</td><td>${esc(i.good)}</td><td>${decYear(i.start)}${i.end ? `–${decYear(i.end)}` : ""}${i.probability < 1 ? ` <span class="muted small">(p ${pct(i.probability, 0)})</span>` : ""}</td>` +
              `<td class="r">${musd(v.scenario?.net_cost)}</td><td class="r">${musd(v.baseline?.net_cost)}</td>${cells}</tr>`
            );
          })
          .join("")
      : `<tr><td colspan="6" class="muted">The scenario has no price floor, collar, offtake or stockpile.</td></tr>`;

    // Payments by year on the scenario path: paid − received.
    const years = [...new Set(ins.flatMap((v) => (v.scenario?.years || []).map((y) => y.year)))].sort((a, b) => a - b);
    const net = (v, y) => {
      const row = (v.scenario?.years || []).find((x) => x.year === y);
      return row ? row.paid - row.received : 0;
    };
    const yt = $("finance-years");
    yt.querySelector("thead").innerHTML =
      `<tr><th>Year</th>${ins.map((v) => `<th class="r">${esc(v.instrument.event)}</th>`).join("")}<th class="r">Total</th></tr>`;
    yt.querySelector("tbody").innerHTML = years
      .map((y) => {
        const vals = ins.map((v) => net(v, y));
        return `<tr><td>${y}</td>${vals.map((x) => `<td class="r">${musd(x)}</td>`).join("")}<td class="r"><b>${musd(vals.reduce((a, b) => a + b, 0))}</b></td></tr>`;
      })
      .join("");
    const c = chart("finance-chart");
    setOpt(c, 
      {
        color: COLORS,
        title: { text: "Net payments by year (USD million, scenario path)", textStyle: { fontSize: 13, fontWeight: 600 }, left: 0 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => `USD ${num(v, 1)} m` },
        legend: { bottom: 0, textStyle: { fontSize: 11 } },
        grid: { left: 8, right: 12, top: 44, bottom: 30, containLabel: true },
        xAxis: { type: "category", data: years.map(String) },
        yAxis: { type: "value", axisLabel: axisLabelNum },
        series: ins.map((v) => ({
          name: v.instrument.event,
          type: "bar",
          stack: "net",
          data: years.map((y) => +(net(v, y) / 1e6).toFixed(3)),
        })),
      },
      true,
    );

    // Market effects and reserves, as sentences.
    const lines = [];
    for (const v of ins) {
      const e = v.market_effect;
      const res = v.reserve;
      if (res) {
        lines.push(
          `Reserve <b>${esc(v.instrument.event)}</b>: bought ${num(res.bought)}, released ${num(res.released)} (${num(res.released_in_shortfall)} in shortfall quarters), holds ${num(res.closing_stock)} ${esc(goodUnit(v.instrument.good))} at the end.`,
        );
      } else if (e) {
        lines.push(
          `<b>${esc(v.instrument.event)}</b>: covered output ${num(e.covered_output_change)} ${esc(goodUnit(v.instrument.good))}, price ${pct(e.price_change)}, producers' revenue ${usd(e.producer_market_change)} against the run without it.`,
        );
      }
    }
    $("finance-effects").innerHTML = lines.length ? `<h3>What the instruments do</h3><ul class="notes">${lines.map((l) => `<li>${l}</li>`).join("")}</ul>` : "";

    const pt = $("finance-projects");
    const projects = r.projects || [];
    const irr = (v) => (finite(v) ? pct(v) : "–");
    pt.querySelector("thead").innerHTML =
      `<tr><th>Project</th><th>Region</th><th>Good</th><th class="r">Capex (USD m)</th><th class="r">NPV without (USD m)</th><th class="r">NPV with (USD m)</th><th class="r">IRR without</th><th class="r">IRR with</th><th>Supported by</th></tr>`;
    pt.querySelector("tbody").innerHTML = projects.length
      ? projects
          .map(
            (p) =>
              `<tr><td title="${esc(p.capex_source)}">${esc(p.name)}</td><td>${esc(p.region)}</td><td>${esc(p.good)}</td><td class="r">${musd(p.capex)}</td>` +
              `<td class="r">${musd(p.npv_without)}</td><td class="r">${musd(p.npv_with)}</td><td class="r">${irr(p.irr_without)}</td><td class="r">${irr(p.irr_with)}</td><td>${esc((p.supported_by || []).join(", "))}</td></tr>`,
          )
          .join("")
      : `<tr><td colspan="9" class="muted">No pipeline project is covered by the instruments.</td></tr>`;
    const notes = [...(r.notes || [])];
    for (const [g, d] of Object.entries(r.dynamics || {})) {
      notes.push(`Price dynamics of ${g}: volatility ${pct(d.vol)} a year, mean reversion ${num(d.kappa, 2)} (${d.source}).`);
    }
    $("finance-notes").innerHTML = notes.map((n) => `<li>${esc(n)}</li>`).join("");
  }

  // ================================================================ start

  async function health() {
    const h = $("health");
    try {
      const r = await api("/api/health");
      h.textContent = `API ${r.status} · v${r.version}`;
      h.classList.remove("bad");
    } catch (e) {
      h.textContent = "API unreachable";
      h.classList.add("bad");
    }
  }

  if (typeof echarts === "undefined") {
    document.querySelector("main").insertAdjacentHTML(
      "afterbegin",
      `<div class="error-box">The chart library (/assets/echarts.min.js) did not load: charts cannot be drawn.</div>`,
    );
  }
  health();
  route();
})();

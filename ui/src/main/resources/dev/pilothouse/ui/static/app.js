// Pilothouse dashboard: small progressive enhancements. Every page reads without this script;
// with it, pages follow the daemon's event stream, charts are drawn, and buttons ask first.
(function () {
  "use strict";

  var live = document.getElementById("live");
  var refreshing = false;
  var pending = false;
  var lastRefresh = 0;

  // Re-reads the page and swaps its main content: the server renders, the script only fetches.
  // Whether the user is typing into the page: it is not swapped from under their fingers.
  function busy() {
    var main = document.getElementById("main");
    var el = document.activeElement;
    return !!main && ((main.contains(el) && (el.tagName === "INPUT" || el.tagName === "TEXTAREA"))
      || !!main.querySelector("form[data-dirty]"));
  }

  function refresh() {
    if (refreshing) { pending = true; return; }
    if (busy()) { pending = true; setTimeout(flush, 2000); return; }
    var wait = 1000 - (Date.now() - lastRefresh);
    if (wait > 0) { pending = true; setTimeout(flush, wait); return; }
    refreshing = true;
    lastRefresh = Date.now();
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html", "X-Pilothouse-Reread": "1" } })
      .then(function (r) {
        if (r.redirected && r.url.indexOf("/login") >= 0) { location.href = r.url; return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var next = doc.getElementById("main");
        var main = document.getElementById("main");
        if (!next || !main) { return; }
        var keep = main.querySelector("#logs");
        var flash = main.querySelector(".flash");
        var active = document.activeElement && document.activeElement.id;
        if (busy()) { pending = true; return; }
        var charts = {};
        main.querySelectorAll("figure.chart[id]").forEach(function (f) { charts[f.id] = f; });
        main.innerHTML = next.innerHTML;
        var logs = main.querySelector("#logs");
        if (keep && logs) { logs.replaceWith(keep); }
        // what the last button did stays until the user goes elsewhere
        if (flash && !main.querySelector(".flash")) { main.insertBefore(flash, main.firstChild); }
        // charts stay as drawn (the 15-second tick redraws them): no refetch per event
        main.querySelectorAll("figure.chart[id]").forEach(function (f) {
          var old = charts[f.id];
          if (old && old.dataset.query === f.dataset.query && old.dataset.range === f.dataset.range) { f.replaceWith(old); }
        });
        if (active) { var el = document.getElementById(active); if (el) { el.focus(); } }
        enhance(main, false);
      })
      .catch(function () { /* the next event or tick tries again */ })
      // events that came while this one was read are not lost: one more read follows them
      .finally(function () { refreshing = false; flush(); });
  }
  function flush() { if (pending) { pending = false; refresh(); } }

  // Open streams are closed when the page is left (pagehide): a page kept in the back-forward
  // cache would otherwise hold its connections, and a browser allows six per host — enough
  // pages left behind stall every request to the dashboard. A page shown again reopens them.
  var streams = [];
  function stream(url) {
    var es = new EventSource(url);
    streams.push(es);
    return es;
  }
  window.addEventListener("pagehide", function () {
    streams.forEach(function (es) { es.close(); });
    streams = [];
  });
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) { return; }
    follow();
    document.querySelectorAll("pre[data-src]").forEach(function (pre) { delete pre.dataset.following; tail(pre); });
  });

  function follow() {
    if (!window.EventSource || !live) { return; }
    var es = stream("/ui/stream");
    var lost = false;
    es.addEventListener("open", function () {
      live.textContent = "live"; live.classList.add("on");
      // what happened while the stream was down is read once it is back
      if (lost) { lost = false; refresh(); }
    });
    es.addEventListener("event", function () { refresh(); });
    es.addEventListener("error", function () { lost = true; live.textContent = "reconnecting"; live.classList.remove("on"); });
  }

  // --- charts (uPlot)
  var palette = ["#1d4ed8", "#c2410c", "#15803d", "#a21caf", "#0e7490", "#b91c1c", "#4d7c0f", "#6d28d9"];

  function label(metric) {
    var keys = Object.keys(metric).filter(function (k) { return k !== "__name__"; });
    if (keys.length === 0) { return metric.__name__ || "value"; }
    return keys.map(function (k) { return metric[k]; }).join(" ");
  }

  function draw(fig) {
    var plot = fig.querySelector(".plot");
    var url = "/ui/series?query=" + encodeURIComponent(fig.dataset.query) + "&range=" + encodeURIComponent(fig.dataset.range || "1h");
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (body) {
      plot.textContent = "";
      if (body.status !== "success") { plot.textContent = body.error || "no data"; return; }
      var result = body.data.result || [];
      if (body.data.resultType !== "matrix" || result.length === 0) { plot.textContent = "No data in this range."; return; }
      result = result.slice(0, 8);
      var times = {};
      result.forEach(function (s) { s.values.forEach(function (v) { times[v[0]] = true; }); });
      var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
      var index = {};
      xs.forEach(function (t, i) { index[t] = i; });
      var data = [xs];
      var series = [{}];
      result.forEach(function (s, n) {
        var ys = new Array(xs.length).fill(null);
        s.values.forEach(function (v) { var y = parseFloat(v[1]); ys[index[v[0]]] = isFinite(y) ? y : null; });
        data.push(ys);
        series.push({ label: label(s.metric), stroke: palette[n % palette.length], width: 1.5, spanGaps: false });
      });
      var style = getComputedStyle(document.documentElement);
      var axis = { stroke: style.getPropertyValue("--muted").trim(), grid: { stroke: style.getPropertyValue("--line").trim() } };
      if (fig._chart) { fig._chart.destroy(); }
      fig._chart = new uPlot({ width: Math.max(300, plot.clientWidth || 420), height: 200, series: series, axes: [axis, axis] }, data, plot);
      fig.dataset.drawn = String(result.length);
    }).catch(function () { plot.textContent = "Chart unavailable."; });
  }

  // --- buttons that ask first (without the script, the server asks on a page of its own)
  function confirmForms(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (f.querySelector("input[name=confirmed]")) { return; }
        if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); return; }
        var c = document.createElement("input");
        c.type = "hidden"; c.name = "confirmed"; c.value = "yes";
        f.appendChild(c);
      });
    });
  }

  // --- a service's log tail
  function tail(pre) {
    if (!window.EventSource || pre.dataset.following) { return; }
    pre.dataset.following = "1";
    pre.textContent = "";
    var es = stream(pre.dataset.src);
    var lines = [];
    es.addEventListener("line", function (e) {
      lines.push(e.data);
      if (lines.length > 500) { lines.splice(0, lines.length - 500); }
      var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.textContent = lines.join("\n");
      if (atEnd) { pre.scrollTop = pre.scrollHeight; }
    });
  }

  // --- the explorer's suggestions: metric names, then a metric's label names after "{"
  function suggest(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) { return; }
    var names = Array.prototype.map.call(list.options, function (o) { return o.value; });
    var asked = "";
    input.addEventListener("input", function () {
      var m = /([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)$/.exec(input.value);
      if (!m || m[1] === asked) { return; }
      asked = m[1];
      fetch("/ui/labels?metric=" + encodeURIComponent(m[1]), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          var before = input.value.slice(0, input.value.lastIndexOf("{") + 1);
          list.textContent = "";
          (body.labels || []).filter(function (l) { return l !== "__name__"; }).forEach(function (l) {
            var o = document.createElement("option"); o.value = before + l + "=\""; list.appendChild(o);
          });
          names.forEach(function (n) { var o = document.createElement("option"); o.value = n; list.appendChild(o); });
        }).catch(function () { asked = ""; });
    });
  }

  // a form the user has typed into is not swapped away by a refresh
  function watchForms(root) {
    root.querySelectorAll("form").forEach(function (f) {
      f.addEventListener("input", function () { f.dataset.dirty = "1"; });
    });
  }

  function enhance(root, first) {
    watchForms(root);
    root.querySelectorAll("figure.chart[data-query]").forEach(function (f) { if (!f._chart) { draw(f); } });
    confirmForms(root);
    root.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    root.querySelectorAll("pre.logs[data-src]").forEach(tail);
    if (first) { root.querySelectorAll("input[list]").forEach(suggest); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document, true);
    follow();
    // charts move on with time even when nothing happens
    setInterval(function () { document.querySelectorAll("figure.chart[data-query]").forEach(draw); }, 15000);
  });
})();

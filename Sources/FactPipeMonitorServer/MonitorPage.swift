/// The page at `/`: one self-contained HTML document (no network, no CDN) that draws the last hour
/// live from `/events`. Each chart's canvas carries `data-points`, the points it drew; the body
/// carries `data-points` (all charts) and `data-events` (events received), for tests and scripts.
/// `/?events=N` stops listening after N events: a still page for a screenshot or `--dump-dom`.
enum MonitorPage {
    static let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>factpipe monitor</title>
        <style>
        :root { --bg:#0f1419; --panel:#171d24; --line:#2a323c; --text:#d8dee6; --dim:#8a96a3;
                --a:#4fb3ff; --b:#f5a623; --ok:#3ecf8e; --bad:#ff5c5c; }
        * { box-sizing:border-box; }
        body { margin:0; padding:20px 24px; background:var(--bg); color:var(--text);
               font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
        header { display:flex; align-items:baseline; gap:16px; flex-wrap:wrap; margin-bottom:16px; }
        h1 { font-size:20px; margin:0; font-weight:600; }
        #db { color:var(--dim); font-family:ui-monospace, monospace; }
        #state { padding:2px 10px; border-radius:10px; font-weight:600; background:var(--line); }
        #state.ok { background:#1d3b2e; color:var(--ok); } #state.bad { background:#3d1f22; color:var(--bad); }
        .tiles { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:12px;
                 margin-bottom:16px; }
        .tile { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
        .tile b { display:block; font-size:22px; font-weight:600; font-variant-numeric:tabular-nums; }
        .tile span { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
        .charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(420px, 1fr)); gap:12px; }
        figure { margin:0; background:var(--panel); border:1px solid var(--line); border-radius:8px;
                 padding:10px 12px; }
        figcaption { display:flex; justify-content:space-between; color:var(--dim); font-size:12px; margin-bottom:4px; }
        figcaption i { font-style:normal; } .ka { color:var(--a); } .kb { color:var(--b); }
        canvas { width:100%; height:170px; display:block; }
        #progress { height:6px; background:var(--line); border-radius:3px; overflow:hidden; margin-top:6px; }
        #progress div { height:100%; width:0; background:var(--a); }
        table { width:100%; border-collapse:collapse; margin-top:16px; background:var(--panel);
                border:1px solid var(--line); border-radius:8px; font-variant-numeric:tabular-nums; }
        th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); }
        th { color:var(--dim); font-weight:500; font-size:12px; }
        td.n { text-align:right; } .s-done { color:var(--ok); } .s-running { color:var(--a); }
        .s-failed, .s-aborted, .s-interrupted { color:var(--bad); } .s-undone { color:var(--dim); }
        footer { color:var(--dim); font-size:12px; margin-top:10px; }
        </style></head>
        <body data-points="0" data-events="0">
        <header><h1>factpipe monitor</h1><span id="db"></span><span id="state">connecting</span></header>
        <div class="tiles">
          <div class="tile"><span>facts</span><b id="facts">–</b></div>
          <div class="tile"><span>predicates</span><b id="predicates">–</b></div>
          <div class="tile"><span>inserted / s</span><b id="rate">–</b></div>
          <div class="tile"><span>lookup p95</span><b id="p95">–</b></div>
          <div class="tile"><span>monitor memory</span><b id="rss">–</b></div>
          <div class="tile"><span>running load</span><b id="running">none</b><div id="progress"><div></div></div></div>
        </div>
        <div class="charts">
          <figure><figcaption><i>insert rate, last hour</i><i><span class="ka">inserted/s</span>
            <span class="kb">records/s</span></i></figcaption><canvas id="c-rate"></canvas></figure>
          <figure><figcaption><i>point lookup latency</i><i><span class="ka">p50</span>
            <span class="kb">p95</span></i></figcaption><canvas id="c-lookup"></canvas></figure>
          <figure><figcaption><i>monitor resident memory</i><i><span class="ka">RSS</span></i></figcaption>
            <canvas id="c-rss"></canvas></figure>
          <figure><figcaption><i>database size</i><i><span class="ka">database</span>
            <span class="kb">WAL</span></i></figcaption><canvas id="c-size"></canvas></figure>
        </div>
        <table><thead><tr><th>load</th><th>source</th><th>status</th><th>started</th>
          <th class="n">records</th><th class="n">inserted</th><th class="n">rejected</th><th class="n">seconds</th>
        </tr></thead><tbody id="loads"></tbody></table>
        <footer id="foot"></footer>
        <script>
        "use strict";
        const HOUR = 3600;
        let points = [], events = 0;
        const $ = id => document.getElementById(id);
        const num = v => v == null ? "–" : Math.round(v).toLocaleString("en");
        function bytes(v) {
          if (v == null) return "–";
          const u = ["B", "KB", "MB", "GB", "TB"]; let i = 0;
          while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
          return (i ? v.toFixed(1) : v) + " " + u[i];
        }
        function secs(v) {
          if (v == null) return "–";
          return v < 0.001 ? (v * 1e6).toFixed(0) + " µs" : v < 1 ? (v * 1e3).toFixed(2) + " ms" : v.toFixed(2) + " s";
        }
        function text(el, t) { el.textContent = t; }
        function chart(id, series, format) {
          const canvas = $(id), ratio = window.devicePixelRatio || 1;
          const w = canvas.clientWidth || 420, h = canvas.clientHeight || 170;
          canvas.width = w * ratio; canvas.height = h * ratio;
          const g = canvas.getContext("2d"); g.scale(ratio, ratio); g.clearRect(0, 0, w, h);
          const css = getComputedStyle(document.body);
          const colors = [css.getPropertyValue("--a"), css.getPropertyValue("--b")];
          const last = points.length ? points[points.length - 1][0] : 0;
          const first = points.length ? Math.max(points[0][0], last - HOUR) : 0;
          const shown = points.filter(p => p[0] >= first);
          let max = 0;
          for (const p of shown) for (const s of series) if (p[s] != null) max = Math.max(max, p[s]);
          max = max > 0 ? max * 1.1 : 1;
          const left = 64, right = w - 8, top = 8, bottom = h - 20;
          g.strokeStyle = css.getPropertyValue("--line"); g.fillStyle = css.getPropertyValue("--dim");
          g.font = "11px system-ui, sans-serif"; g.lineWidth = 1;
          for (let i = 0; i <= 4; i++) {
            const y = bottom - (bottom - top) * i / 4;
            g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
            g.fillText(format(max * i / 4), 4, y + 4);
          }
          const span = Math.max(last - first, 1);
          g.fillText((span < 120 ? Math.round(span) + " s" : Math.round(span / 60) + " min") + " ago", left, h - 4);
          g.fillText("now", right - 22, h - 4);
          let drawn = 0;
          series.forEach((s, k) => {
            g.strokeStyle = colors[k]; g.lineWidth = 2; g.beginPath(); let pen = false;
            for (const p of shown) {
              if (p[s] == null) { pen = false; continue; }
              const x = left + (right - left) * (p[0] - first) / span;
              const y = bottom - (bottom - top) * p[s] / max;
              pen ? g.lineTo(x, y) : g.moveTo(x, y); pen = true; drawn++;
            }
            g.stroke();
            if (shown.length === 1 && shown[0][s] != null) {
              g.fillStyle = colors[k]; g.beginPath();
              g.arc(right, bottom - (bottom - top) * shown[0][s] / max, 3, 0, 7); g.fill();
            }
          });
          canvas.dataset.points = drawn;
          return drawn;
        }
        function draw() {
          let total = 0;
          total += chart("c-rate", [1, 2], v => num(v));
          total += chart("c-lookup", [3, 4], v => secs(v));
          total += chart("c-rss", [5], v => bytes(v));
          total += chart("c-size", [6, 7], v => bytes(v));
          document.body.dataset.points = total;
          document.body.dataset.events = events;
        }
        function show(e) {
          const state = $("state");
          state.className = e.healthy ? "ok" : "bad";
          text(state, e.healthy ? "up" : "cannot read: " + (e.failure || "?"));
          text($("facts"), num(e.facts)); text($("predicates"), num(e.predicates));
          text($("rate"), num(e.insertedPerSecond)); text($("p95"), secs(e.lookupP95));
          text($("rss"), bytes(e.residentBytes));
          const run = e.running && e.running[0];
          text($("running"), run ? "#" + run.id + " · " + num(run.recordsPerSecond) + "/s" : "none");
          const share = run && run.sourceBytes ? Math.min(1, run.bytesRead / run.sourceBytes) : 0;
          $("progress").firstElementChild.style.width = (share * 100).toFixed(1) + "%";
          const body = $("loads"); body.replaceChildren();
          for (const l of e.loads || []) {
            const tr = document.createElement("tr");
            const cells = ["#" + l.id, l.source, l.status, (l.startedAt || "").replace("T", " ").slice(0, 19),
                           num(l.records), num(l.inserted), num(l.rejected),
                           l.seconds == null ? "–" : l.seconds.toFixed(1)];
            cells.forEach((c, i) => {
              const td = document.createElement("td"); td.textContent = c;
              if (i >= 4) td.className = "n";
              if (i === 2) td.className = "s-" + l.status;
              tr.appendChild(td);
            });
            body.appendChild(tr);
          }
          text($("foot"), "probe " + secs(e.probeSeconds) + " · " + num(e.lookups) + " lookups timed · " +
               (e.clients || 0) + " event clients · " + new Date(e.time * 1000).toISOString());
        }
        text($("db"), location.host);
        const limit = Number(new URLSearchParams(location.search).get("events")) || 0;
        const source = new EventSource("events");
        source.addEventListener("history", m => { points = JSON.parse(m.data).points || []; draw(); });
        source.onmessage = m => {
          const e = JSON.parse(m.data); events++;
          if (e.point) {
            points.push(e.point);
            const last = e.point[0];
            while (points.length && points[0][0] < last - HOUR) points.shift();
          }
          show(e); draw();
          if (limit && events >= limit) source.close();
        };
        source.onerror = () => { const s = $("state"); s.className = "bad"; text(s, "reconnecting"); };
        window.addEventListener("resize", draw);
        </script>
        </body></html>
        """
}

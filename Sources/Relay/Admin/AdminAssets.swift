/// The interface's stylesheet and script, embedded in the binary (no CDN, no build step) and
/// served from the interface's own origin, the only one its Content-Security-Policy allows.
enum AdminAssets {
    static func named(_ name: String) -> (contentType: String, body: String)? {
        switch name {
        case "admin.css": return ("text/css; charset=utf-8", css)
        case "admin.js": return ("text/javascript; charset=utf-8", script + logScript)
        default: return nil
        }
    }

    static let css = """
    body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }
    header { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #ccc; }
    table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
    th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #eee; vertical-align: top; }
    .error { color: #a00; }
    .muted { color: #777; }
    button { cursor: pointer; }
    form.inline { display: inline; margin: 0; }
    input[type=password] { width: 28rem; max-width: 100%; }
    nav a { margin: 0 .3rem; }
    td { word-break: break-all; }
    tr.new { background: #ffc; }
    """

    /// Live updates without a framework: poll the JSON API with the session cookie, count each
    /// share's expiry down, drop rows of shares that ended, and reload when a new share appears
    /// (the server renders rows, so forms and their CSRF tokens stay server-made). Without
    /// JavaScript the page is the same, only static.
    static let script = """
    (function () {
      "use strict";
      var table = document.getElementById("shares");
      if (!table) { return; }
      function format(seconds) {
        if (seconds <= 0) { return "now"; }
        var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
        return (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
      }
      function tick() {
        var cells = table.querySelectorAll("[data-expires]");
        for (var i = 0; i < cells.length; i++) {
          var left = Math.max(0, parseInt(cells[i].getAttribute("data-expires"), 10) - 1);
          cells[i].setAttribute("data-expires", String(left));
          cells[i].textContent = format(left);
        }
      }
      function refresh() {
        fetch("/api/shares", { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) { return; }
            var live = {};
            data.shares.forEach(function (share) { live[share.name] = share; });
            var rows = table.querySelectorAll("tr[data-share]"), shown = {};
            for (var i = 0; i < rows.length; i++) {
              var name = rows[i].getAttribute("data-share");
              shown[name] = true;
              if (!live[name]) { rows[i].parentNode.removeChild(rows[i]); continue; }
              var cell = rows[i].querySelector("[data-expires]");
              if (cell) { cell.setAttribute("data-expires", String(live[name].expiresIn)); cell.textContent = format(live[name].expiresIn); }
              ["requests", "bytes", "peers"].forEach(function (field) {
                var counter = rows[i].querySelector("[data-" + field + "]");
                if (counter) { counter.textContent = String(live[name][field]); }
              });
            }
            if (data.shares.some(function (share) { return !shown[share.name]; })) { window.location.reload(); }
          })
          .catch(function () {});
      }
      setInterval(tick, 1000);
      setInterval(refresh, 3000);
    })();
    """

    /// The share-log page's live updates: every two seconds ask the API for rows newer than the
    /// newest shown (`after`), with the page's own filter, and put them on top. Rows are built with
    /// `textContent`, never HTML, so a path or user agent is text however it looks. Older pages
    /// (`data-live="0"`) stay still.
    static let logScript = """
    (function () {
      "use strict";
      var table = document.getElementById("log");
      if (!table || table.getAttribute("data-live") !== "1") { return; }
      var body = table.tBodies[0];
      var after = parseInt(table.getAttribute("data-after"), 10) || 0;
      var base = "/api/shares/" + encodeURIComponent(table.getAttribute("data-share")) + "/log?";
      var query = table.getAttribute("data-query");
      function cell(row, text) { var td = document.createElement("td"); td.textContent = text; row.appendChild(td); }
      // As AdminLogPages.note: the refusal, or the side that cut the response short.
      function note(entry) { return entry.refusal || (entry.aborted ? "aborted by the " + entry.aborted : ""); }
      // Rows since the newest shown, newest first, following `next` while a page is full.
      function since(before, rows) {
        var url = base + (query ? query + "&" : "") + "after=" + after + "&limit=500" + (before ? "&before=" + before : "");
        return fetch(url, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data) { return rows; }
            rows = rows.concat(data.rows);
            return data.next ? since(data.next, rows) : rows;
          });
      }
      function show(rows) {
        for (var i = rows.length - 1; i >= 0; i--) {
          var entry = rows[i], row = document.createElement("tr");
          row.setAttribute("data-id", String(entry.id));
          row.className = "new";
          [entry.time, entry.client, entry.method, entry.path, String(entry.status), String(entry.bytes),
           entry.durationMs + " ms", entry.userAgent, note(entry)].forEach(function (text) { cell(row, text); });
          body.insertBefore(row, body.firstChild);
          after = Math.max(after, entry.id);
        }
        var empty = document.getElementById("log-empty");
        if (rows.length && empty) { empty.parentNode.removeChild(empty); }
      }
      // The next poll is scheduled when this one is done, so polls never overlap.
      function poll() {
        since(0, []).then(show).catch(function () {}).then(function () { setTimeout(poll, 2000); });
      }
      setTimeout(poll, 2000);
    })();
    """
}

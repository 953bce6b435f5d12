// Sunset operator UI: light progressive enhancement. Every page works without this script.
// 1. Countdowns tick every minute.
// 2. A runbook panel whose run is live (data-live) is refreshed every 5 seconds from the page
//    itself, unless the user is typing in it.
(function () {
  "use strict";
  var zh = document.documentElement.lang.indexOf("zh") === 0;
  function span(ms) {
    var m = Math.floor(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    var u = zh ? ["天", "小时", "分钟"] : ["d", "h", "min"];
    if (d > 0) return d + " " + u[0] + " " + h + " " + u[1];
    if (h > 0) return h + " " + u[1] + " " + mm + " " + u[2];
    return mm + " " + u[2];
  }
  function tick() {
    var els = document.querySelectorAll("[data-until]");
    for (var i = 0; i < els.length; i++) {
      var ms = Date.parse(els[i].getAttribute("data-until")) - Date.now();
      if (isNaN(ms)) continue;
      var s = span(ms);
      els[i].textContent = ms >= 0 ? (zh ? "还有 " + s : "in " + s) : (zh ? "已过期 " + s : "due " + s + " ago");
    }
  }
  function refreshRunbook() {
    var panel = document.getElementById("runbook");
    if (!panel || !panel.hasAttribute("data-live")) return;
    if (panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    fetch(location.pathname + location.search, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("runbook");
        if (fresh) panel.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () {});
  }
  document.addEventListener("DOMContentLoaded", function () {
    setInterval(tick, 60000);
    setInterval(refreshRunbook, 5000);
  });
})();

/*
 * Sunset announcement banner. Embed it on any page:
 *
 *   <script src="https://sunset.example.com/p/SERVICE/banner.js" async></script>
 *
 * It fetches the announcements.json next to it (no cookies sent), and shows the newest notice
 * that asked for the banner at the top of the page, in the reader's language (the script
 * tag's data-lang, else the page's lang, else the browser's; Chinese or English), with a link
 * to the status page and a close button. A dismissed notice stays hidden on that browser. It
 * uses no library and builds the banner with DOM calls and textContent only.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !script.src) {
    return;
  }
  var source = script.src.replace(/\/banner\.js(\?.*)?$/, "/announcements.json");
  var pick = (script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en").toLowerCase();
  var lang = pick.indexOf("zh") === 0 ? "zh" : "en";
  var words = {
    en: { more: "Details", close: "Dismiss", label: "Service announcement" },
    zh: { more: "详情", close: "关闭", label: "服务公告" }
  };

  function text(t) {
    if (!t) {
      return "";
    }
    return t[lang] || t.en || t.zh || "";
  }

  function storageKey(data, a) {
    return "sunset-banner:" + data.sunset + ":" + a.id;
  }

  function dismissed(key) {
    try {
      return window.localStorage.getItem(key) === "1";
    } catch (e) {
      return false;
    }
  }

  function remember(key) {
    try {
      window.localStorage.setItem(key, "1");
    } catch (e) {
      /* private mode: dismissed for this page view only */
    }
  }

  function show(data) {
    var list = (data && data.announcements) || [];
    var a = null;
    for (var i = 0; i < list.length; i++) {
      if (list[i].banner && !dismissed(storageKey(data, list[i]))) {
        a = list[i];
        break;
      }
    }
    if (!a) {
      return;
    }
    var key = storageKey(data, a);
    var bar = document.createElement("div");
    bar.setAttribute("role", "region");
    bar.setAttribute("aria-label", words[lang].label);
    bar.setAttribute("lang", lang === "zh" ? "zh-Hans" : "en");
    bar.className = "sunset-banner";
    var s = bar.style;
    s.position = "relative";
    s.zIndex = "2147483000";
    s.display = "flex";
    s.gap = "1rem";
    s.alignItems = "center";
    s.padding = "0.6rem 1rem";
    s.background = "#fff4d6";
    s.color = "#2b2100";
    s.borderBottom = "1px solid #d9b44a";
    s.font = "15px/1.4 system-ui, sans-serif";

    var msg = document.createElement("span");
    msg.style.flex = "1";
    msg.textContent = text(a.title) + " ";
    var link = document.createElement("a");
    link.href = a.url || data.status_url;
    link.textContent = words[lang].more;
    link.style.color = "inherit";
    msg.appendChild(link);
    bar.appendChild(msg);

    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", words[lang].close);
    close.title = words[lang].close;
    close.style.font = "inherit";
    close.style.fontSize = "1.25rem";
    close.style.background = "none";
    close.style.border = "0";
    close.style.cursor = "pointer";
    close.style.color = "inherit";
    close.addEventListener("click", function () {
      remember(key);
      if (bar.parentNode) {
        bar.parentNode.removeChild(bar);
      }
    });
    bar.appendChild(close);

    var body = document.body;
    body.insertBefore(bar, body.firstChild);
  }

  function start() {
    window.fetch(source, { credentials: "omit", mode: "cors" })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(show)
      .catch(function () {
        /* no banner when the announcements cannot be read */
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

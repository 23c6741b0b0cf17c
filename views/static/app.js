/*
 * CronPulse dashboard script: keeps the overview current, and makes
 * <button data-copy="TEXT"> copy TEXT to the clipboard.
 *
 * Part of CronPulse, under the licence of the CronPulse repository this
 * file is distributed with. Plain JavaScript, no build step, no
 * dependencies. The dashboard works without it; it only saves reloading.
 *
 * Every 15 seconds while the tab is visible (and at once when it becomes
 * visible again) it fetches the page's own URL with "X-Partial: rows",
 * which answers only the status counts and the table body in the same
 * order the page was sorted in, and swaps them in, with the tab title.
 * Checked rows stay checked.
 */
(function () {
  "use strict";

  // Copy buttons: the text goes to the clipboard and the button says so
  // for a moment. Without the Clipboard API (or without script) the text
  // stays in a readonly field next to the button, ready to select.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("button[data-copy]") : null;
    if (!btn || !navigator.clipboard) {
      return;
    }
    var label = btn.dataset.label || btn.textContent;
    btn.dataset.label = label;
    navigator.clipboard.writeText(btn.dataset.copy).then(function () {
      btn.textContent = "Copied";
    }, function () {
      btn.textContent = "Copy failed: select the text and copy it";
    }).then(function () {
      window.setTimeout(function () { btn.textContent = label; }, 2000);
    });
  });
})();

(function () {
  "use strict";

  var INTERVAL_MS = 15000;
  var rows = document.getElementById("rows");
  if (!rows || !window.fetch || !window.DOMParser) {
    return;
  }
  var busy = false;

  function checkedIDs() {
    var out = {};
    var boxes = document.querySelectorAll("#rows input[name=id]:checked");
    for (var i = 0; i < boxes.length; i++) {
      out[boxes[i].value] = true;
    }
    return out;
  }

  function swap(doc, id) {
    var fresh = doc.getElementById(id);
    var old = document.getElementById(id);
    if (fresh && old) {
      old.innerHTML = fresh.innerHTML;
    }
  }

  function refresh() {
    if (busy || document.visibilityState !== "visible") {
      return;
    }
    busy = true;
    fetch(window.location.href, { headers: { "X-Partial": "rows" }, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok || res.headers.get("X-Partial") !== "rows") {
          return null; // signed out, or an error page: leave the page as it is
        }
        return res.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var checked = checkedIDs();
        swap(doc, "rows");
        swap(doc, "counts");
        var boxes = document.querySelectorAll("#rows input[name=id]");
        for (var i = 0; i < boxes.length; i++) {
          boxes[i].checked = !!checked[boxes[i].value];
        }
        var live = doc.getElementById("live");
        if (live && live.dataset.title) {
          document.title = live.dataset.title;
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { busy = false; });
  }

  window.setInterval(refresh, INTERVAL_MS);
  document.addEventListener("visibilitychange", refresh);
})();

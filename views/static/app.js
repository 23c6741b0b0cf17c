/*
 * CronPulse dashboard script: keeps the overview current.
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

/*
 * Copy buttons: <button data-copy="TEXT"> copies TEXT with the clipboard
 * API and says so on the button for two seconds. Without JavaScript the
 * text is in a readonly field or <pre> beside it, to select by hand.
 */
(function () {
  "use strict";

  var buttons = document.querySelectorAll("button[data-copy]");
  if (!buttons.length || !navigator.clipboard) {
    return;
  }
  function copy(ev) {
    var b = ev.currentTarget;
    var label = b.dataset.label || b.textContent;
    b.dataset.label = label;
    navigator.clipboard.writeText(b.dataset.copy).then(function () {
      b.textContent = "Copied";
    }, function () {
      b.textContent = "Copy failed: select the text";
    }).then(function () {
      window.setTimeout(function () { b.textContent = label; }, 2000);
    });
  }
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", copy);
  }
})();

/*
 * The job form's schedule preview (#schedule-preview): 300 ms after the
 * schedule or time zone was last typed in, it asks GET
 * /api/v1/schedules/validate (the session cookie signs it) and shows the
 * description and the next runs as <li>. Text that is not a cron or
 * @every expression goes to POST /api/v1/schedules/parse (X-CSRF-Token
 * from <meta name="csrf-token">); a schedule read from it is offered with
 * a "Use this" button that puts the expression (and its zone) in the
 * fields. Without JavaScript the server renders the preview after submit.
 */
(function () {
  "use strict";

  var box = document.getElementById("schedule-preview");
  var schedule = document.getElementById("f-schedule");
  var zone = document.getElementById("f-timezone");
  if (!box || !schedule || !window.fetch) {
    return;
  }
  var meta = document.querySelector("meta[name=csrf-token]");
  var timer = null;
  var seq = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function show(nodes) {
    box.textContent = "";
    for (var i = 0; i < nodes.length; i++) {
      box.appendChild(nodes[i]);
    }
  }

  function fmt(iso) {
    // The server answers each run in the job's zone, with its offset:
    // show that wall clock as it is, not the browser's.
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
    var off = iso.slice(19).replace(/^\.\d+/, "");
    return m ? m[1] + " " + m[2] + " (" + (off === "Z" ? "UTC" : off) + ")" : iso;
  }

  // A descriptor, or 5-6 fields of cron characters or three-letter names
  // (MON-FRI, JAN): its error is the answer; anything else may be English.
  var FIELD = /^([\d*?\/,\-LW#]+|[A-Za-z]{3}([,\-][A-Za-z]{3})*)$/;
  function looksLikeExpression(s) {
    if (/^@/.test(s)) {
      return true;
    }
    var parts = s.split(/\s+/);
    if (parts.length < 5 || parts.length > 6) {
      return false;
    }
    for (var i = 0; i < parts.length; i++) {
      if (!FIELD.test(parts[i])) {
        return false;
      }
    }
    return true;
  }

  function showValid(res) {
    var nodes = [el("p", "preview-desc", res.description || "")];
    var ol = el("ol", "next-runs");
    for (var i = 0; i < res.nextRuns.length; i++) {
      var li = el("li");
      var t = el("time", "", fmt(res.nextRuns[i]));
      t.setAttribute("datetime", res.nextRuns[i]);
      li.appendChild(t);
      ol.appendChild(li);
    }
    nodes.push(ol);
    show(nodes);
  }

  function offerParsed(text, mine) {
    if (!meta) {
      return;
    }
    fetch("/api/v1/schedules/parse", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": meta.content },
      body: JSON.stringify({ text: text, timezone: zone ? zone.value : "" })
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (r) {
        if (mine !== seq) {
          return;
        }
        if (!r.ok) {
          show([el("p", "preview-error", r.body.error || "Not a schedule.")]);
          return;
        }
        var s = r.body.schedule;
        var use = el("button", "", "Use this");
        use.type = "button";
        use.addEventListener("click", function () {
          schedule.value = s.expression;
          if (zone && s.timezone) {
            zone.value = s.timezone;
          }
          update();
        });
        show([el("p", "preview-desc", r.body.humanReadable + ": "), el("code", "", s.expression + (s.timezone ? " (" + s.timezone + ")" : "")), use]);
      })
      .catch(function () { /* offline: the server checks on submit */ });
  }

  function update() {
    var text = schedule.value.trim();
    var mine = ++seq;
    if (!text) {
      show([]);
      return;
    }
    var q = "?schedule=" + encodeURIComponent(text) + "&timezone=" + encodeURIComponent(zone ? zone.value.trim() : "");
    fetch("/api/v1/schedules/validate" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        if (mine !== seq || !res) {
          return;
        }
        if (res.valid) {
          showValid(res);
        } else if (!looksLikeExpression(text)) {
          offerParsed(text, mine);
        } else {
          show([el("p", "preview-error", res.error)]);
        }
      })
      .catch(function () { /* offline: the server checks on submit */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  }
  schedule.addEventListener("input", later);
  if (zone) {
    zone.addEventListener("input", later);
  }
})();

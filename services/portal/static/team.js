/* Team dashboard: re-fetch today's daily logs every 20 s and replace the list when it changed
   (progressive enhancement; without JavaScript the page shows the list as it was when loaded). */
(function () {
  "use strict";
  var box = document.getElementById("team-logs");
  if (!box || !window.fetch) { return; }
  var src = box.getAttribute("data-src");
  function words(node) { return (node.textContent || "").replace(/\s+/g, " ").trim(); }
  function refresh() {
    fetch(src, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (resp) {
        // a lapsed session redirects to the login page: keep what is shown
        if (!resp.ok || resp.redirected) { return null; }
        return resp.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) { return; }
        var next = document.createElement("div");
        next.innerHTML = html;
        // only a real change is written (and announced by the polite live region)
        if (words(next) !== words(box)) { box.innerHTML = html; }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }
  window.setInterval(refresh, 20000);
}());

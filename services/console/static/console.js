// The live queue: when the read model moves (server-sent events), fetch this page's rows again.
(function () {
  var rows = document.getElementById("rows");
  if (!rows || !window.EventSource) return;
  var busy = false;
  function refresh() {
    if (busy) return;
    busy = true;
    var before = {};
    rows.querySelectorAll("tr[data-order]").forEach(function (tr) { before[tr.dataset.order] = true; });
    fetch(rows.dataset.live, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        rows.innerHTML = html;
        rows.querySelectorAll("tr[data-order]").forEach(function (tr) {
          if (!before[tr.dataset.order]) tr.classList.add("fresh");
        });
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  var source = new EventSource("/events");
  // Marks the queue live once the stream has said hello (the browser tests wait for it).
  source.addEventListener("hello", function () { rows.dataset.connected = "yes"; });
  source.addEventListener("changed", refresh);
})();

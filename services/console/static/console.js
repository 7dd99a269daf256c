// The live queue: when the read model moves (server-sent events), fetch this page's rows again,
// keeping the orders ticked for the bulk bar ticked.
(function () {
  var rows = document.getElementById("rows");
  var all = document.getElementById("tick-all");
  // "Tick every row" ticks the boxes of its page's bulk form (the queue's orders, the NDR desk's parcels).
  if (all) {
    all.addEventListener("change", function () {
      var ticks = document.querySelectorAll("input[type=checkbox][form='" + (all.dataset.form || "bulk") + "']");
      ticks.forEach(function (box) { box.checked = all.checked; });
    });
  }
  if (!rows || !window.EventSource) return;
  var busy = false;
  function refresh() {
    if (busy) return;
    busy = true;
    var before = {};
    var ticked = {};
    rows.querySelectorAll("tr[data-order]").forEach(function (tr) { before[tr.dataset.order] = true; });
    rows.querySelectorAll("input[name=order_id]:checked").forEach(function (box) { ticked[box.value] = true; });
    fetch(rows.dataset.live, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        rows.innerHTML = html;
        rows.querySelectorAll("tr[data-order]").forEach(function (tr) {
          if (!before[tr.dataset.order]) tr.classList.add("fresh");
        });
        rows.querySelectorAll("input[name=order_id]").forEach(function (box) { box.checked = !!ticked[box.value]; });
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  var source = new EventSource("/events");
  // Marks the queue live once the stream has said hello (the browser tests wait for it).
  source.addEventListener("hello", function () { rows.dataset.connected = "yes"; });
  source.addEventListener("changed", refresh);
})();

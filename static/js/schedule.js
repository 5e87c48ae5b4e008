// Free stretches of the week calendar and the timeline: a pointer click books the half hour under the
// pointer rather than the stretch's first hour. Without this script (or from the keyboard) the link still
// opens the form prefilled for the start of the stretch.
(function () {
  "use strict";
  function hhmm(minutes) {
    var h = Math.floor(minutes / 60), m = minutes % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }
  function minutes(value) {
    var parts = (value || "").split(":");
    return parts.length === 2 ? parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10) : NaN;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-drawn-from]");
    if (!link || event.detail === 0) return;
    var url = new URL(link.href);
    var start = minutes(url.searchParams.get("start")), end = minutes(url.searchParams.get("end"));
    var stretchEnd = parseInt(link.dataset.stretchEnd, 10);
    var from = parseInt(link.dataset.drawnFrom, 10), to = parseInt(link.dataset.drawnTo, 10);
    if (isNaN(start) || isNaN(end) || isNaN(from) || isNaN(to) || end <= start) return;
    var box = link.getBoundingClientRect();
    var horizontal = link.dataset.axis === "x";
    var share = horizontal ? (event.clientX - box.left) / box.width : (event.clientY - box.top) / box.height;
    var length = end - start;
    var picked = Math.floor((from + share * (to - from)) / 30) * 30;
    picked = Math.max(start, Math.min(picked, stretchEnd - length));
    url.searchParams.set("start", hhmm(picked));
    url.searchParams.set("end", hhmm(Math.min(picked + length, stretchEnd) % 1440));
    link.href = url.toString();
  });
})();

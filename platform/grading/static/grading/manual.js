// Keyboard on the grading desk (the keys are listed on the page): j/k move between graded cells,
// n/p between students, s jumps to the cell's score, Ctrl+Enter saves and opens the next
// waiting student, Esc leaves a field so that the keys work again.
(function () {
  "use strict";
  function cells() { return Array.prototype.slice.call(document.querySelectorAll(".md-cell.md-graded")); }
  var current = -1;
  function focusCell(index) {
    var all = cells();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (cell) { cell.classList.remove("md-current"); });
    all[current].classList.add("md-current");
    all[current].focus();
    all[current].scrollIntoView({block: "center"});
  }
  function go(id) { var link = document.getElementById(id); if (link) { window.location.href = link.href; } }
  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("manual-form");
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && form) {
      event.preventDefault();
      document.getElementById("save-next").click();
      return;
    }
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key === "Escape" && (tag === "input" || tag === "textarea")) { event.target.blur(); return; }
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "j") { focusCell(current + 1); }
    else if (event.key === "k") { focusCell(current - 1); }
    else if (event.key === "n") { go("next-student"); }
    else if (event.key === "p") { go("previous-student"); }
    else if (event.key === "s" && current >= 0) {
      var score = cells()[current].querySelector(".md-score");
      if (score) { event.preventDefault(); score.focus(); }
    } else { return; }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var all = cells();
    var waiting = all.findIndex(function (cell) { return cell.classList.contains("md-waiting"); });
    if (all.length) { focusCell(waiting >= 0 ? waiting : 0); }
  });
})();

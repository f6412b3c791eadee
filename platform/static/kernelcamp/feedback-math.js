// Renders the TeX that the server marked (.kc-math) with KaTeX, served from our own static files.
// Only marked elements are touched; `trust` stays off, so \href, \url and \html... do nothing.
(function () {
  function render() {
    if (typeof katex === "undefined") return;
    document.querySelectorAll(".kc-math").forEach(function (el) {
      try {
        katex.render(el.textContent, el, {
          displayMode: el.getAttribute("data-math") === "display",
          throwOnError: false,
          trust: false,
          maxSize: 20,
          maxExpand: 200,
        });
        el.classList.add("kc-math-done");
      } catch (e) {
        /* the TeX stays as text */
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();

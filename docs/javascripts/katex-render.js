// Typeset every formula arithmatex marked (\( ... \) inline, \[ ... \] display) with the KaTeX the site serves.
// Errors stay visible: a formula that does not parse becomes a span of class katex-error, and an unknown
// command is drawn in ERROR_COLOR, so readers see them in red and the browser test can find them.
// On a wide screen a display formula a little wider than the text column is scaled down to fit it; on a narrow
// screen (or when fitting would shrink it below SMALLEST) it keeps its size and scrolls inside its own box.
(function () {
  var ERROR_COLOR = "#cc0001";
  var WIDE = "(min-width: 45em)";
  var SMALLEST = 0.6;
  function typeset(root) {
    root.querySelectorAll(".arithmatex").forEach(function (element) {
      renderMathInElement(element, {
        delimiters: [
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
        ],
        throwOnError: false,
        errorColor: ERROR_COLOR,
      });
    });
    fit(root);
  }
  function fit(root) {
    var wide = window.matchMedia(WIDE).matches;
    root.querySelectorAll("div.arithmatex .katex-display > .katex").forEach(function (formula) {
      var box = formula.closest("div.arithmatex");
      formula.style.fontSize = "";
      if (!wide || box.scrollWidth <= box.clientWidth) return;
      var base = parseFloat(window.getComputedStyle(formula).fontSize);
      var size = base;
      for (var k = 0; k < 6 && box.scrollWidth > box.clientWidth; k++) {
        size = Math.floor(size * (box.clientWidth / box.scrollWidth) * 10) / 10;
        if (size < base * SMALLEST) break;
        formula.style.fontSize = size + "px";
      }
      if (box.scrollWidth > box.clientWidth) formula.style.fontSize = "";  // too wide to fit: let it scroll
    });
  }
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { fit(document.body); }, 100);
  });
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { typeset(document.body); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { typeset(document.body); });
  }
})();

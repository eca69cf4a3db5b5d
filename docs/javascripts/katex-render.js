// Typeset every formula arithmatex marked (\( ... \) inline, \[ ... \] display) with the KaTeX the site serves.
// Errors stay visible: a formula that does not parse becomes a span of class katex-error, and an unknown
// command is drawn in ERROR_COLOR, so readers see them in red and the browser test can find them.
(function () {
  var ERROR_COLOR = "#cc0001";
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
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { typeset(document.body); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { typeset(document.body); });
  }
})();

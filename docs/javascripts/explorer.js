// The interactive 1x1 convolution. Every number and label it shows was computed while the site was built
// (docs/hooks/sitekit/explorer.py) and sits in the page as JSON inside the [data-explorer] element; this script
// only lays that data out and answers clicks and keys. It computes nothing.
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(className, text, key, pressed) {
    var b = el("button", className, text);
    b.type = "button";
    b.setAttribute("data-key", key);
    if (pressed !== undefined) b.setAttribute("aria-pressed", pressed ? "true" : "false");
    return b;
  }

  // A map as a grid of its numbers; cells are buttons when onPick is given.
  function grid(values, mark, onPick, keyPrefix) {
    var g = el("div", "vf-grid");
    g.style.setProperty("--cols", values[0].length);
    values.forEach(function (row, h) {
      row.forEach(function (text, w) {
        var marked = mark && mark[0] === h && mark[1] === w;
        var cell = onPick ? button("vf-cell", text, keyPrefix + h + ":" + w) : el("span", "vf-cell", text);
        if (marked) cell.classList.add("vf-mark");
        cell.setAttribute("data-h", h);
        cell.setAttribute("data-w", w);
        if (onPick) cell.addEventListener("click", function () { onPick(h, w); });
        g.appendChild(cell);
      });
    });
    return g;
  }

  function Explorer(root) {
    var data = JSON.parse(root.querySelector(".vf-explorer-data").textContent);
    var state = {
      caseId: data.initial.case,
      output: data.initial.output,
      pixel: data.initial.pixel.slice(),
      asker: false,
    };
    var fallback = root.querySelector(".vf-explorer-fallback");
    if (fallback) fallback.remove();

    var bar = el("div", "vf-ex-bar");
    var body = el("div", "vf-ex-body");
    var sum = el("div", "vf-ex-sum");
    sum.setAttribute("aria-live", "polite");
    var note = el("p", "vf-ex-note");
    var keys = el("p", "vf-ex-keys", data.labels.keys);
    root.append(bar, note, body, sum, keys);

    function current() {
      for (var k = 0; k < data.cases.length; k++) if (data.cases[k].id === state.caseId) return data.cases[k];
      return null;
    }

    function select(o, h, w) {
      state.output = o;
      if (h !== undefined) state.pixel = [h, w];
      render();
    }

    function renderBar() {
      bar.replaceChildren();
      var sizes = el("div", "vf-ex-group");
      sizes.setAttribute("role", "group");
      sizes.setAttribute("aria-label", data.labels.size);
      sizes.appendChild(el("span", "vf-ex-group-label", data.labels.size));
      data.cases.concat([data.aggregate]).forEach(function (c) {
        var b = button("vf-ex-button", c.button, "case:" + c.id, state.caseId === c.id);
        b.addEventListener("click", function () {
          state.caseId = c.id;
          state.output = data.initial.output;
          state.pixel = data.initial.pixel.slice();
          render();
        });
        sizes.appendChild(b);
      });
      var view = button("vf-ex-button vf-ex-switch", data.labels.view, "view", state.asker);
      view.disabled = current() === null;
      view.addEventListener("click", function () { state.asker = !state.asker; render(); });
      bar.append(sizes, view);
    }

    function renderAggregate() {
      var a = data.aggregate;
      note.textContent = a.note;
      var table = el("table", "vf-ex-aggregate");
      var tbody = el("tbody");
      a.rows.forEach(function (r) {
        var tr = el("tr");
        tr.append(el("th", "", r[0]), el("td", "", r[1]));
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      body.appendChild(table);
      sum.replaceChildren();
    }

    function renderLayer(c) {
      var nIn = c.inputs.length;
      var layer = el("div", "vf-ex-layer");
      layer.style.setProperty("--filters", c.filters.length);
      var head = el("div", "vf-ex-head", data.labels.inputs);
      head.style.gridColumn = "1";
      layer.appendChild(head);
      c.inputs.forEach(function (m, i) {
        var box = el("div", "vf-map vf-in vf-reading");
        box.setAttribute("data-input", i);
        box.append(el("div", "vf-map-name", m.label), grid(m.values, state.pixel));
        box.style.gridRow = String(i + 2);
        box.style.gridColumn = "1";
        layer.appendChild(box);
      });
      c.filters.forEach(function (f, o) {
        var col = String(o + 2);
        var label = el("div", "vf-ex-filter-label", f.label);
        label.style.gridColumn = col;
        label.setAttribute("data-filter", o);
        if (o === state.output) label.classList.add("vf-active");
        layer.appendChild(label);
        f.weights.forEach(function (text, i) {
          var cell = el("div", "vf-ex-weight", text);
          cell.title = f.titles[i];
          cell.setAttribute("data-filter", o);
          cell.setAttribute("data-input", i);
          cell.classList.add(o === state.output ? "vf-active" : "vf-dim");
          if (i === 0) cell.classList.add("vf-first");
          if (i === nIn - 1) cell.classList.add("vf-last");
          cell.style.gridRow = String(i + 2);
          cell.style.gridColumn = col;
          layer.appendChild(cell);
        });
      });
      var outs = el("div", "vf-ex-outputs");
      outs.style.gridRow = "1 / span " + String(nIn + 1);
      outs.style.gridColumn = String(c.filters.length + 2);
      outs.appendChild(el("div", "vf-ex-head", data.labels.outputs));
      c.outputs.forEach(function (m, o) {
        var box = el("div", "vf-map vf-out vf-ex-outmap");
        box.setAttribute("data-output", o);
        if (o === state.output) box.classList.add("vf-active");
        var pick = button("vf-ex-select", m.label, "out:" + o, o === state.output);
        pick.addEventListener("click", function () { select(o); });
        var mark = o === state.output ? state.pixel : null;
        box.append(pick, grid(m.values, mark, function (h, w) { select(o, h, w); }, "px:" + o + ":"));
        outs.appendChild(box);
      });
      layer.appendChild(outs);
      body.appendChild(layer);
      note.textContent = c.layerNote;
    }

    function renderProducts(c) {
      var panel = el("div", "vf-ex-products");
      c.products.forEach(function (row, o) {
        var line = el("div", "vf-ex-product-row");
        line.setAttribute("data-output", o);
        if (o === state.output) line.classList.add("vf-active");
        line.appendChild(el("span", "vf-row-label", c.productRows[o]));
        row.forEach(function (m) {
          var box = el("div", "vf-map vf-in vf-ex-product");
          box.append(el("div", "vf-map-name", m.label), grid(m.values, o === state.output ? state.pixel : null));
          line.appendChild(box);
        });
        line.appendChild(el("span", "vf-arrow", c.productArrow));
        var pick = button("vf-ex-select", c.outputs[o].label, "out:" + o, o === state.output);
        pick.addEventListener("click", function () { select(o); });
        var out = el("div", "vf-map vf-out");
        var mark = o === state.output ? state.pixel : null;
        out.append(pick, grid(c.outputs[o].values, mark, function (h, w) { select(o, h, w); }, "px:" + o + ":"));
        line.appendChild(out);
        panel.appendChild(line);
      });
      body.appendChild(panel);
      note.textContent = c.askerNote;
    }

    function renderSum(c) {
      var h = state.pixel[0], w = state.pixel[1];
      sum.replaceChildren(
        el("span", "vf-ex-sum-lead", c.sumLead[state.output][h][w]),
        el("span", "vf-ex-sum-text", c.sums[state.output][h][w])
      );
    }

    function render() {
      var focused = document.activeElement && root.contains(document.activeElement)
        ? document.activeElement.getAttribute("data-key") : null;
      renderBar();
      body.replaceChildren();
      var c = current();
      root.setAttribute("data-case", state.caseId);
      root.setAttribute("data-view", state.asker && c ? "asker" : "layer");
      if (c === null) {
        renderAggregate();
      } else {
        if (state.asker) renderProducts(c); else renderLayer(c);
        renderSum(c);
      }
      if (focused) {
        var again = root.querySelector('[data-key="' + focused + '"]');
        if (again) again.focus();
      }
    }

    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    root.addEventListener("keydown", function (event) {
      var c = current();
      var step = moves[event.key];
      if (!c || !step) return;
      var rows = c.pixels.length, cols = c.pixels[0].length;
      var h = Math.min(rows - 1, Math.max(0, state.pixel[0] + step[0]));
      var w = Math.min(cols - 1, Math.max(0, state.pixel[1] + step[1]));
      event.preventDefault();
      var onPixel = document.activeElement && document.activeElement.classList.contains("vf-cell");
      state.pixel = [h, w];
      render();
      if (onPixel) {
        var cell = root.querySelector('[data-key="px:' + state.output + ":" + h + ":" + w + '"]');
        if (cell) cell.focus();
      }
    });

    render();
  }

  function start() {
    document.querySelectorAll("[data-explorer]").forEach(function (root) {
      if (!root.hasAttribute("data-ready")) {
        root.setAttribute("data-ready", "");
        Explorer(root);
      }
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// Measurements the docs' browser tests take in a loaded page. Evaluated once per page load: it puts
// window.__workshopChecks, whose functions return plain data (Runtime.evaluate with returnByValue).
window.__workshopChecks = (() => {
  // ----- colours and contrast (WCAG 2.x relative luminance) -------------------------------------
  const parse = (text) => {
    const match = /rgba?\(([^)]+)\)/.exec(text || "");
    if (!match) return null;
    const parts = match[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => {
    const alpha = top[3] + bottom[3] * (1 - top[3]);
    if (alpha === 0) return [0, 0, 0, 0];
    const mix = [0, 1, 2].map((i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / alpha);
    return [...mix, alpha];
  };
  // The colour behind an element: every translucent background up to the first opaque one, composited.
  const backdrop = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour && colour[3] > 0) layers.push(colour);
      if (colour && colour[3] >= 1) break;
    }
    let result = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) result = over(layers[i], result);
    return result;
  };
  const luminance = (rgb) => {
    const channel = (value) => {
      const c = value / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
  };
  const ownText = (element) => Array.from(element.childNodes)
    .filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join("").trim();
  const visible = (element) => {
    const rect = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return rect.width > 0 && rect.height > 0 && style.visibility !== "hidden" && style.display !== "none";
  };
  const describe = (element, all = false) => {
    const names = typeof element.className === "string" ? element.className.trim().split(/\s+/).filter(Boolean) : [];
    const classes = (all ? names : names.slice(0, 3)).join(".");
    return element.tagName.toLowerCase() + (classes ? "." + classes : "");
  };

  const contrast = (selector) => {
    const seen = [];
    for (const element of document.querySelectorAll(selector)) {
      const text = ownText(element);
      if (!text || !visible(element)) continue;
      const background = backdrop(element);
      const foreground = over(parse(getComputedStyle(element).color) || [0, 0, 0, 1], background);
      const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
      seen.push({ratio: (light + 0.05) / (dark + 0.05), text: text.slice(0, 60), element: describe(element),
                 box: describe(element.closest(".workshop-box, .workshop-output, .jp-RenderedMarkdown, .workshop-trouble")
                               || element, true)});
    }
    return seen;
  };

  // ----- anchors -----------------------------------------------------------------------------------
  const anchors = () => {
    const ids = Array.from(document.querySelectorAll("[id]"), (e) => e.id)
      .concat(Array.from(document.querySelectorAll("a[name]"), (e) => e.name));
    const links = [];
    for (const a of document.querySelectorAll("a[href]")) {
      const url = new URL(a.getAttribute("href"), location.href);
      if (url.origin !== location.origin || !url.hash || url.hash === "#") continue;
      links.push({path: url.pathname, id: decodeURIComponent(url.hash.slice(1)), text: a.textContent.trim().slice(0, 60)});
    }
    return {path: location.pathname, ids, links};
  };

  // ----- horizontal overflow -------------------------------------------------------------------------
  // What may scroll sideways: code, outputs and tables.
  const CODE = "pre, code, .highlight, .highlight-ipynb, .jp-OutputArea-output, .jp-InputArea-editor, " +
               ".md-typeset__scrollwrap, table";
  const overflow = () => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    const cut = [];
    const scrollers = [];
    for (const element of document.body.querySelectorAll("*")) {
      if (!visible(element)) continue;
      const style = getComputedStyle(element);
      if (["auto", "scroll"].includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1 &&
          !element.matches(CODE) && !element.closest("pre")) {
        scrollers.push(describe(element));
      }
      const right = element.getBoundingClientRect().right;
      const clippers = [];
      for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
        if (getComputedStyle(parent).overflowX !== "visible") clippers.push(parent);
      }
      // Wider than the page, unless a box that fits the page holds it (scrolling it or hiding it).
      if (right > width + 1) {
        if (!clippers.some((c) => c.getBoundingClientRect().right <= width + 1)) {
          wide.push({element: describe(element), right: Math.round(right)});
        }
        continue;
      }
      // Cut off in the lesson: the nearest box that clips it does not scroll, so the rest is out of reach
      // (4 px allowed: inline code wrapped over two lines keeps its padding on both).
      const nearest = clippers[0];
      // (MathJax's copy for screen readers is clipped on purpose.)
      if (nearest && element.closest("article") && nearest.closest("article") && !element.closest("mjx-assistive-mml") &&
          !["auto", "scroll"].includes(getComputedStyle(nearest).overflowX) &&
          right > nearest.getBoundingClientRect().right + 4 && style.textOverflow !== "ellipsis") {
        cut.push({element: describe(element), right: Math.round(right), clip: describe(nearest)});
      }
    }
    // Outputs keep their lines and code in tables stays whole: neither may wrap inside a token.
    const breaking = Array.from(document.querySelectorAll(".jp-OutputArea-output pre, .md-typeset pre > code, td code, th code"))
      .filter((e) => visible(e) && !["pre", "nowrap"].includes(getComputedStyle(e).whiteSpace))
      .map((e) => describe(e) + ": " + e.textContent.slice(0, 40));
    return {width, scrollWidth: document.documentElement.scrollWidth, wide, cut, scrollers, breaking};
  };

  // ----- diagrams (called with `this` = a closed shadow root holding one) ---------------------------
  const diagramText = function () {
    const svg = this.querySelector("svg");
    if (!svg) return null;
    const sizes = [];
    for (const element of svg.querySelectorAll("text, tspan, foreignObject div, foreignObject span, foreignObject p")) {
      const text = Array.from(element.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent).join("").trim();
      if (!text) continue;
      const holder = element instanceof SVGGraphicsElement ? element : element.closest("foreignObject");
      const ctm = holder.getScreenCTM();
      const scale = Math.hypot(ctm.a, ctm.b);
      sizes.push({px: parseFloat(getComputedStyle(element).fontSize) * scale, text: text.slice(0, 40)});
    }
    return {width: svg.getBoundingClientRect().width, sizes};
  };

  return {contrast, anchors, overflow, diagramText: diagramText.toString()};
})();
Boolean(window.__workshopChecks);

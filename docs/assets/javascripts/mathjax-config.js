// MathJax 3 (vendored in assets/vendor/mathjax) for the lab pages: the notebooks' markdown keeps its
// TeX between $...$. Only the notebook is typeset, and the context menu is off (its speech options
// would fetch data from a CDN).
window.MathJax = {
  tex: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
  },
  options: { enableMenu: false },
  startup: { elements: [".jupyter-wrapper"] },
  svg: { fontCache: "global" },
};

// A interface do livro em português: o que os scripts dos temas escrevem em inglês.
// Carregado com "defer" depois deles (book/_ext/ptbr_ui.py).

// Botão de copiar código (sphinx-copybutton): mensagens por idioma da página.
if (typeof messages !== "undefined") {
  messages["pt-BR"] = {
    copy: "Copiar",
    copy_to_clipboard: "Copiar para a área de transferência",
    copy_success: "Copiado!",
    copy_failure: "Não foi possível copiar",
  };
  if (typeof locale !== "undefined") {
    locale = "pt-BR";
  }
}

// Textos que os scripts põem nos botões depois de carregar a página.
const PTBR_LABELS = {
  "Toggle hidden content": "Mostrar ou ocultar o conteúdo",
  "Copy to clipboard": "Copiar para a área de transferência",
  "Copy": "Copiar",
};

function ptbrRelabel(root) {
  root.querySelectorAll("[aria-label], [title], [data-tooltip]").forEach((el) => {
    for (const attribute of ["aria-label", "title", "data-tooltip"]) {
      const value = el.getAttribute(attribute);
      if (value && PTBR_LABELS[value]) {
        el.setAttribute(attribute, PTBR_LABELS[value]);
      }
    }
  });
}

// Trechos da busca: o HTML guardado tem o TeX cru das fórmulas ("\(\mu\)"), que o MathJax
// só compõe na página. No trecho, a fórmula vira texto legível.
const PTBR_TEX = {
  alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε",
  eta: "η", theta: "θ", lambda: "λ", mu: "μ", pi: "π", rho: "ρ", sigma: "σ",
  tau: "τ", phi: "φ", omega: "ω", Delta: "Δ", Sigma: "Σ", sum: "Σ", partial: "∂",
  nabla: "∇", times: "×", cdot: "·", approx: "≈", leq: "≤", geq: "≥", le: "≤",
  ge: "≥", neq: "≠", infty: "∞", in: "∈", to: "→", ldots: "…", dots: "…",
};

function ptbrTexToText(tex) {
  return tex
    .replace(/^\s*(\\\(|\\\[|\$\$?)/, "")
    .replace(/(\\\)|\\\]|\$\$?)\s*$/, "")
    .replace(/\\(?:mathrm|mathbf|text|operatorname|hat|bar|tilde|boldsymbol)\s*/g, "")
    .replace(/\\([A-Za-z]+)/g, (match, name) => PTBR_TEX[name] || "")
    .replace(/[{}]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

// Busca sem acentos: a consulta passa pela mesma dobra que o índice (SearchPortugueseFolded,
// em book/_ext/ptbr_ui.py) antes do radical do português.
if (typeof PortugueseStemmer !== "undefined") {
  Stemmer = function () {
    const stemmer = new PortugueseStemmer();
    this.stemWord = (word) =>
      stemmer.stemWord(word.normalize("NFD").replace(/[\u0300-\u036f]/g, ""));
  };
}

if (typeof Search !== "undefined" && Search.htmlToText) {
  const originalHtmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(".math").forEach((el) => {
      const display = el.tagName === "DIV";
      el.textContent = display ? " [fórmula] " : ptbrTexToText(el.textContent);
    });
    return originalHtmlToText(doc.documentElement.outerHTML, anchor);
  };
}

document.addEventListener("DOMContentLoaded", () => {
  // Depois dos outros tratadores de DOMContentLoaded, que criam os botões.
  setTimeout(() => ptbrRelabel(document), 0);
  new MutationObserver((changes) => {
    for (const change of changes) {
      change.addedNodes.forEach((node) => {
        if (node.nodeType === Node.ELEMENT_NODE) ptbrRelabel(node.parentNode || node);
      });
    }
  }).observe(document.body, { childList: true, subtree: true });
});

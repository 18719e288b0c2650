// 读给我听 (bundled into js/site.js after htmx): reads a page's text aloud with the browser's own speech synthesis (no bytes on the
// wire, no third party). The button stays hidden unless the browser has a voice for the page's
// language; a second press stops. Long texts are read sentence by sentence (engines cut long
// utterances short).
(() => {
  const synth = window.speechSynthesis;
  if (!synth || !window.SpeechSynthesisUtterance) return;
  const language = document.documentElement.lang.toLowerCase().startsWith("zh") ? "zh" : "en";

  const voice = () =>
    synth.getVoices().find((one) => one.lang.toLowerCase().replace("_", "-").startsWith(language));

  function sentences(text) {
    const pieces = text.replace(/\s+/g, " ").match(/[^。！？；.!?;]+[。！？；.!?;]?/g) || [];
    return pieces.map((piece) => piece.trim()).filter(Boolean);
  }

  function read(button, chosen) {
    const label = button.textContent;
    const stop = () => {
      synth.cancel();
      button.textContent = label;
      button.setAttribute("aria-pressed", "false");
    };
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-pressed") === "true") return stop();
      const target = document.querySelector(button.dataset.readAloud);
      const parts = sentences(target ? target.innerText : "");
      if (!parts.length) return;
      synth.cancel();
      button.textContent = button.dataset.stopLabel;
      button.setAttribute("aria-pressed", "true");
      parts.forEach((part, index) => {
        const utterance = new SpeechSynthesisUtterance(part);
        utterance.voice = chosen;
        utterance.lang = chosen.lang;
        if (index === parts.length - 1) utterance.onend = stop;
        synth.speak(utterance);
      });
    });
  }

  function offer() {
    const chosen = voice();
    if (!chosen) return false;
    document.querySelectorAll("[data-read-aloud]:not([data-ready])").forEach((button) => {
      button.dataset.ready = "1";
      read(button, chosen);
      button.closest("[hidden]")?.removeAttribute("hidden");
    });
    return true;
  }

  if (!offer()) synth.addEventListener("voiceschanged", offer);
  document.addEventListener("htmx:after:settle", offer); // a page htmx swapped in (htmx 4)
})();

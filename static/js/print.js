// Print buttons (templates/edge/print/_button.html, the notice-board sheet): hidden until this
// script runs, then they open the browser's print dialog; the no-script hint then goes away.
document.querySelectorAll("[data-print]").forEach((button) => {
  if (button.dataset.printReady) return;
  button.dataset.printReady = "1";
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
document.querySelectorAll("[data-print-hint]").forEach((hint) => {
  hint.hidden = true;
});

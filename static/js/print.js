// The print button of a notice-board sheet: shown only when scripts run; without them the hint stays.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
  for (const hint of document.querySelectorAll("[data-print-hint]")) hint.hidden = true;
}

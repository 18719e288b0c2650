// Print buttons (templates/edge/print/_button.html): hidden until this script runs, then they
// open the browser's print dialog. Without scripts the page says to use the browser's menu.
document.querySelectorAll("[data-print]").forEach((button) => {
  if (button.dataset.printReady) return;
  button.dataset.printReady = "1";
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});

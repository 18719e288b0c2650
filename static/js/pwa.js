// Cunban agent app: register the service worker that keeps the app shell for offline use.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .catch((error) => console.warn("service worker not registered:", error));
}

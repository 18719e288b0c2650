// Cunban agent app: register the service worker that keeps the app shell for offline use.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .catch((error) => console.warn("service worker not registered:", error));
  keepLinkedForms().catch(() => undefined);
}

// Forms this page links with `data-keep-offline` (a seller's listing form): the worker keeps
// them, so the agent can fill them in with no signal.
async function keepLinkedForms() {
  const links = [...document.querySelectorAll("a[data-keep-offline]")].map((link) => link.href);
  if (!links.length || !navigator.onLine) return;
  const registration = await navigator.serviceWorker.ready;
  if (registration.active) registration.active.postMessage({ keep: links });
}

// "开启通知": shown only where push works; subscribes with the node's key and tells the server.
const pushButton = document.getElementById("push-enable");

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

const SUBSCRIBE_TIMEOUT = 15000; // where the browser's push service is out of reach it never answers

function withTimeout(promise, ms, what) {
  const late = new Promise((_, fail) => setTimeout(() => fail(new Error(`${what} did not answer`)), ms));
  return Promise.race([promise, late]);
}

async function enablePush() {
  if ((await Notification.requestPermission()) !== "granted") throw new Error("permission not granted");
  const { key } = await (await fetch("/push/key", { credentials: "same-origin" })).json();
  const registration = await navigator.serviceWorker.ready;
  const subscribing = registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(key),
  });
  const subscription = await withTimeout(subscribing, SUBSCRIBE_TIMEOUT, "the push service");
  const response = await fetch("/push/subscriptions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": pushButton.dataset.csrf },
    body: JSON.stringify(subscription),
  });
  if (!response.ok) throw new Error(`subscription refused: HTTP ${response.status}`);
  pushButton.textContent = pushButton.dataset.done;
}

// Every failure says so beside the button, which stays usable; SMS is the channel of record.
function offerPush() {
  const status = document.getElementById("push-status");
  pushButton.hidden = false;
  pushButton.addEventListener("click", () => {
    pushButton.disabled = true;
    status.textContent = "";
    enablePush()
      .catch((error) => {
        console.warn("push not enabled:", error);
        status.textContent = status.dataset.failed;
        pushButton.disabled = false;
      });
  });
}

if (pushButton && "serviceWorker" in navigator && "PushManager" in window) offerPush();

// The outbox: a badge with what waits on this device, and a sending round at app start, on
// `online`, the page shown and every 0.25 s (nothing due: IndexedDB read only; a try that never
// left the device is due at once, so sending starts within 0.25 s of the link's return).
const Outbox = window.CunbanOutbox;
const ROUND_EVERY = 250;

async function showWaiting() {
  const waiting = (await Outbox.all()).filter((entry) => entry.state !== "accepted").length;
  const badge = document.querySelector("[data-outbox-count]");
  if (badge) {
    badge.textContent = String(waiting);
    badge.hidden = waiting === 0;
  }
  if (navigator.setAppBadge) (waiting ? navigator.setAppBadge(waiting) : navigator.clearAppBadge()).catch(() => undefined);
}

// App start and `online` (forced) wait for a round already running, say the worker's
// Background Sync round that set off a moment before the link was usable and failed: the
// forced round then goes at once instead of at the end of that round's backoff.
function sendRound(force) {
  Outbox.sendAll({ force, wait: force }).catch((error) => console.warn("outbox round failed:", error));
}

if (Outbox && window.indexedDB) {
  Outbox.onChange(() => showWaiting().catch(() => undefined));
  showWaiting().catch(() => undefined);
  window.addEventListener("online", () => sendRound(true));
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && sendRound(true));
  sendRound(true);
  setInterval(() => sendRound(false), ROUND_EVERY);
}

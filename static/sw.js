// Cunban's service worker: keeps the agent's app shell, forms and visited pages for offline
// use, and sends the outbox by Background Sync. Served at /sw.js by edge/pwa/routes.py, which
// puts `SHELL` above this line: { version, assets (hashed static URLs), outbox (the outbox
// script's URL), offline (URL), pages (the agent's start pages and every intake form),
// readable (public sections kept once visited), forms (path patterns of agent forms kept once
// opened, or when a page asks: a seller's listing form) }.
// Hashed static files: cache first. Pages: network first, then the kept copy, then /offline.
// Kept is only what is listed (an allow-list): the shell's pages and assets, and pages of the
// readable sections. Every other response (staff pages above all) is never stored here; nor are
// POST responses and responses marked no-store.

importScripts(SHELL.outbox);

const PREFIX = "cunban-";
const STATIC_CACHE = `${PREFIX}shell-${SHELL.version}`;
const PAGE_CACHE = `${PREFIX}pages-${SHELL.version}`;
const FORM_CACHE = `${PREFIX}forms-${SHELL.version}`; // SHELL.pages, never trimmed
const HASHED = /^\/static\/.+\.[0-9a-f]{12}\.[a-z0-9]+$/;
const MAX_PAGES = 60;
const MATCH = { ignoreVary: true };
const FORM_PATTERNS = (SHELL.forms || []).map((source) => new RegExp(source));
const MAX_ASKED = 60;

function keepable(response) {
  const control = response.headers.get("Cache-Control") || "";
  return (
    response.ok &&
    response.type === "basic" &&
    !response.redirected &&
    !/no-store/i.test(control)
  );
}

// A page of a public section the app keeps once visited (/services, /services/MZ-002).
function readable(url) {
  const path = new URL(url, self.location.origin).pathname;
  return SHELL.readable.some((section) => path === section || path.startsWith(`${section}/`));
}

// The address a shell page (or a kept agent form) is kept under, without its query
// (?outbox=<key> opens a form with a kept entry); null for other pages.
function shellPage(url) {
  const path = new URL(url, self.location.origin).pathname;
  const kept = SHELL.pages.includes(path) || FORM_PATTERNS.some((form) => form.test(path));
  return kept ? path : null;
}

// A filtered view of a shell page (/agent/apply?q=低保) is not kept: under the page's address it
// would stand for the whole page offline.
function filtered(url) {
  const keys = [...new URL(url, self.location.origin).searchParams.keys()];
  return keys.some((key) => key !== "outbox");
}

async function keepPage(url, response) {
  if (!keepable(response)) return;
  if (shellPage(url)) {
    if (filtered(url)) return;
    return (await caches.open(FORM_CACHE)).put(shellPage(url), response);
  }
  if (!readable(url)) return;
  const cache = await caches.open(PAGE_CACHE);
  await cache.put(url, response);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, -MAX_PAGES).map((old) => cache.delete(old)));
}

// Signed-in pages are kept when the session allows; a redirect to /login is not kept.
async function keepPages() {
  await Promise.all(
    SHELL.pages.map((url) =>
      fetch(url, { credentials: "same-origin" })
        .then((response) => keepPage(url, response))
        .catch(() => undefined),
    ),
  );
}

async function precache() {
  const shell = await caches.open(STATIC_CACHE);
  await shell.addAll([...SHELL.assets, SHELL.offline]);
  await keepPages();
}

// After signing out and in again the forms are gone: when the agent's start page is next
// loaded online, fetch whatever is missing, one refill at a time.
let refilling = null;
async function refillPages() {
  const kept = new Set((await (await caches.open(FORM_CACHE)).keys()).map((r) => shellPage(r.url)));
  if (SHELL.pages.every((url) => kept.has(url))) return;
  if (!refilling) refilling = keepPages().finally(() => (refilling = null));
  await refilling;
}

async function dropOldCaches() {
  const current = [STATIC_CACHE, PAGE_CACHE, FORM_CACHE];
  const names = await caches.keys();
  const old = names.filter((name) => name.startsWith(PREFIX) && !current.includes(name));
  await Promise.all(old.map((name) => caches.delete(name)));
}

async function cacheFirst(event) {
  const kept = await caches.match(event.request, MATCH);
  if (kept) return kept;
  const response = await fetch(event.request);
  if (keepable(response)) {
    const copy = response.clone();
    event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.put(event.request, copy)));
  }
  return response;
}

async function networkFirst(event) {
  const url = event.request.url;
  try {
    const response = await fetch(event.request);
    const kept = keepPage(url, response.clone());
    event.waitUntil(shellPage(url) === SHELL.pages[0] ? kept.then(refillPages) : kept);
    return response;
  } catch (error) {
    const kept = await caches.match(shellPage(url) || url, MATCH);
    return kept || (await offlinePage());
  }
}

// The offline page as a new response, so it stands at the address that was asked for.
async function offlinePage() {
  const kept = await caches.match(SHELL.offline, MATCH);
  if (!kept) return Response.error();
  return new Response(kept.body, { status: 503, headers: kept.headers });
}

function isPage(request) {
  return request.mode === "navigate" || request.headers.get("HX-Boosted") === "true";
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(dropOldCaches().then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    // Signing in or out forgets the pages kept for the agent before (they carry that agent's
    // account and token); the outbox in IndexedDB stays. The start page refills them.
    if (url.pathname === "/logout" || url.pathname === "/login") {
      event.waitUntil(Promise.all([caches.delete(PAGE_CACHE), caches.delete(FORM_CACHE)]));
    }
    return;
  }
  if (HASHED.test(url.pathname)) event.respondWith(cacheFirst(event));
  else if (isPage(request)) event.respondWith(networkFirst(event));
});

// A page of the app names agent forms to keep for offline use ({keep: [paths]}, the links it
// marks `data-keep-offline`): only those matching SHELL.forms, fetched with the session.
self.addEventListener("message", (event) => {
  const asked = event.data && Array.isArray(event.data.keep) ? event.data.keep : [];
  const paths = asked
    .map((url) => new URL(url, self.location.origin))
    .filter((url) => url.origin === self.location.origin)
    .map((url) => url.pathname)
    .filter((path) => FORM_PATTERNS.some((form) => form.test(path)))
    .slice(0, MAX_ASKED);
  event.waitUntil(
    Promise.all(
      paths.map((path) =>
        fetch(path, { credentials: "same-origin" })
          .then((response) => keepPage(path, response))
          .catch(() => undefined),
      ),
    ),
  );
});

// Background Sync: the link is back (the app may be closed). A failed round, or one that left
// entries the node asked to wait for (Retry-After), is retried later by the browser.
self.addEventListener("sync", (event) => {
  if (!CunbanOutbox.wakesUs(event.tag)) return;
  event.waitUntil(
    CunbanOutbox.sendAll({ force: true, wait: true }).then((result) => {
      if (result === "unreachable") throw new Error("the node is out of reach");
      if (result === "later") throw new Error("the node asked to wait");
    }),
  );
});

// Web push: show what the node sent ({title, body, url}); a click opens the page on this site.
function pushed(data) {
  try {
    return data ? data.json() : {};
  } catch (error) {
    return { body: data.text() }; // not JSON: show the text rather than nothing
  }
}

self.addEventListener("push", (event) => {
  const message = pushed(event.data);
  event.waitUntil(
    self.registration.showNotification(message.title || self.location.host, {
      body: message.body || "",
      data: { url: message.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url, self.location.origin);
  if (url.origin === self.location.origin) event.waitUntil(openOrFocus(url.href));
});

// A window of the app already open goes to the page; otherwise a new one opens.
async function openOrFocus(href) {
  const open = await self.clients.matchAll({ type: "window" });
  const app = open.find((client) => "navigate" in client);
  if (!app) return self.clients.openWindow(href);
  await app.focus();
  return app.navigate(href);
}

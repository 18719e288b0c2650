// Cunban's service worker: keeps the agent's app shell and visited pages for offline use.
// Served at /sw.js by edge/pwa/routes.py, which puts `SHELL` above this line:
// { version, assets (hashed static URLs), offline (URL), pages (URLs kept from the start) }.
// Hashed static files: cache first. Pages: network first, then the kept copy, then /offline.
// POST responses and responses marked no-store are never kept.

const PREFIX = "cunban-";
const STATIC_CACHE = `${PREFIX}shell-${SHELL.version}`;
const PAGE_CACHE = `${PREFIX}pages-${SHELL.version}`;
const HASHED = /^\/static\/.+\.[0-9a-f]{12}\.[a-z0-9]+$/;
const MAX_PAGES = 60;
const MATCH = { ignoreVary: true };

function keepable(response) {
  const control = response.headers.get("Cache-Control") || "";
  return (
    response.ok &&
    response.type === "basic" &&
    !response.redirected &&
    !/no-store/i.test(control)
  );
}

async function keepPage(url, response) {
  if (!keepable(response)) return;
  const cache = await caches.open(PAGE_CACHE);
  await cache.put(url, response);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, -MAX_PAGES).map((old) => cache.delete(old)));
}

async function precache() {
  const shell = await caches.open(STATIC_CACHE);
  await shell.addAll([...SHELL.assets, SHELL.offline]);
  // Signed-in pages are kept when the session allows; a redirect to /login is not kept.
  await Promise.all(
    SHELL.pages.map((url) =>
      fetch(url)
        .then((response) => keepPage(url, response))
        .catch(() => undefined),
    ),
  );
}

async function dropOldCaches() {
  const current = [STATIC_CACHE, PAGE_CACHE];
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
    event.waitUntil(keepPage(url, response.clone()));
    return response;
  } catch (error) {
    return (await caches.match(url, MATCH)) || (await offlinePage());
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
    // Signing out forgets the pages kept for this agent.
    if (url.pathname === "/logout") event.waitUntil(caches.delete(PAGE_CACHE));
    return;
  }
  if (HASHED.test(url.pathname)) event.respondWith(cacheFirst(event));
  else if (isPage(request)) event.respondWith(networkFirst(event));
});

// Web push: show what the node sent ({title, body, url}); a click opens the page on this site.
self.addEventListener("push", (event) => {
  const message = event.data ? event.data.json() : {};
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
  if (url.origin === self.location.origin) event.waitUntil(self.clients.openWindow(url.href));
});

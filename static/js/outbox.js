// The outbox: forms taken in on this device, kept in IndexedDB under their idempotency key
// until the node accepts them; used by the pages and the service worker (Background Sync).
// A round: who is signed in (CSRF token) and which photos the node holds, in one request; a PUT
// per missing photo by its sha256 (answered before the node re-encodes it); the form with the
// photos' tokens. Retries repeat nothing on the node. A try that failed offline or never left
// the device does not back off: sending starts as soon as the link is back, whether or not the
// browser says so; after 20 s of such tries timer rounds try every 1 s, after 1 min every 5 s.
(function (scope) {
  const DB_NAME = "cunban-outbox";
  const STORE = "entries";
  const LOCK = "cunban-outbox";
  const SYNC_TAG = "cunban-outbox";
  const FIRST_DELAY = 5000;
  const NO_ANSWER_DELAY = 250;
  const NO_LINK_MS = 150; // refused sooner: it never left the device (a mobile RTT is 300+ ms)
  const MAX_ASKED = 40; // photos named in one session probe (the node's limit)
  const MAX_DELAY = 300000;
  const UPLOAD_TIMEOUT = 180000;
  const PACE = [[20000, 0], [60000, 1000], [Infinity, 5000]]; // [refused for < ms, try every ms]
  const refusals = { since: 0, last: 0 };
  const channel = "BroadcastChannel" in scope ? new BroadcastChannel("cunban-outbox") : null;
  const changeListeners = [];
  const progressListeners = [];

  // No usable answer: try again later, not before `retryAfter` ms when the node said so.
  // `noAnswer`: no HTTP answer at all, retried soonest; `noLink`: as if offline.
  class Unreachable extends Error {
    constructor(message, retryAfter = 0, noAnswer = false, noLink = false) {
      super(message);
      this.retryAfter = retryAfter;
      this.noAnswer = noAnswer || noLink;
      this.noLink = noLink;
    }
  }

  function failedToConnect(error, startedAt) {
    const noLink = Date.now() - startedAt < NO_LINK_MS;
    if (noLink) refusals.last = Date.now();
    refusals.since ||= noLink && refusals.last;
    return new Unreachable(String(error), 0, true, noLink);
  }
  class SignedOut extends Error {} // the session is gone: the agent signs in again

  // --- storage

  function settled(request) {
    return new Promise((done, fail) => {
      request.onsuccess = () => done(request.result);
      request.onerror = () => fail(request.error);
    });
  }

  let opening = null;
  function database() {
    if (!opening) {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      opening = settled(request).catch((error) => {
        opening = null; // try again next time
        throw error;
      });
    }
    return opening;
  }

  async function write(change) {
    const db = await database();
    const transaction = db.transaction(STORE, "readwrite", { durability: "strict" });
    change(transaction.objectStore(STORE));
    await new Promise((done, fail) => {
      transaction.oncomplete = done;
      transaction.onerror = transaction.onabort = () => fail(transaction.error);
    });
    announce();
  }

  // Change the stored entry in one transaction; each writer changes only what it owns, so none
  // writes a stale copy back. `change` returns false to leave it. Resolves to the entry stored.
  async function update(key, change) {
    let stored;
    await write((store) => {
      const request = store.get(key);
      request.onsuccess = () => {
        if (request.result && change(request.result) !== false) {
          stored = request.result;
          store.put(stored);
        }
      };
    });
    return stored;
  }

  async function all() {
    const db = await database();
    return settled(db.transaction(STORE).objectStore(STORE).getAll());
  }

  async function get(key) {
    const db = await database();
    return settled(db.transaction(STORE).objectStore(STORE).get(key));
  }

  const put = (entry) => write((store) => store.put(entry));
  const remove = (key) => write((store) => store.delete(key));

  function announce() {
    if (channel) channel.postMessage("changed");
    changeListeners.forEach((listener) => listener());
  }

  function onChange(listener) {
    changeListeners.push(listener);
    if (channel) channel.addEventListener("message", () => listener());
  }

  function onProgress(listener) {
    progressListeners.push(listener);
  }

  // --- talking to the node

  // Retry-After in seconds or as an HTTP date, in ms from now (0 when absent or past).
  function retryAfterMs(value) {
    if (!value) return 0;
    const seconds = Number(value);
    const ms = Number.isNaN(seconds) ? Date.parse(value) - Date.now() : seconds * 1000;
    return ms > 0 ? ms : 0;
  }

  // Any answer the node gave on purpose has a JSON body; anything else means "try later"
  // (a busy node's 503 and a full disk's 507 say when, in Retry-After).
  function answer(status, text, retryAfter) {
    if (status) refusals.since = 0;
    if (status === 401) throw new SignedOut();
    if (status === 0 || status === 408 || status === 429 || status >= 500) {
      throw new Unreachable(`HTTP ${status}`, retryAfterMs(retryAfter));
    }
    try {
      return { status, body: JSON.parse(text) };
    } catch (error) {
      throw new Unreachable(`HTTP ${status} without an answer`);
    }
  }

  async function call(url, init = {}) {
    let response;
    const startedAt = Date.now();
    try {
      const headers = { Accept: "application/json", ...(init.headers || {}) };
      response = await fetch(url, { ...init, headers, credentials: "same-origin" });
    } catch (error) {
      throw failedToConnect(error, startedAt);
    }
    const text = await response.text().catch(() => "");
    return answer(response.status, text, response.headers.get("Retry-After"));
  }

  // A PUT with upload progress where pages can report it (XHR); plain fetch in the worker.
  function upload(url, blob, csrf, progress) {
    const headers = { "Content-Type": blob.type || "image/jpeg", "X-CSRF-Token": csrf, Prefer: "respond-async" };
    if (typeof XMLHttpRequest === "undefined") {
      return call(url, { method: "PUT", body: blob, headers });
    }
    return new Promise((done, fail) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      Object.entries({ ...headers, Accept: "application/json" }).forEach(([name, value]) =>
        xhr.setRequestHeader(name, value),
      );
      xhr.timeout = UPLOAD_TIMEOUT;
      xhr.upload.onprogress = (event) => progress(event.loaded);
      const startedAt = Date.now();
      xhr.onerror = xhr.ontimeout = xhr.onabort = () => fail(failedToConnect("upload cut off", startedAt));
      xhr.onload = () => {
        try {
          done(answer(xhr.status, xhr.responseText, xhr.getResponseHeader("Retry-After")));
        } catch (error) {
          fail(error);
        }
      };
      xhr.send(blob);
    });
  }

  // Who is signed in, the CSRF token and which of `hashes` the node already holds.
  async function signedIn(hashes) {
    const query = hashes.map((sha256) => `sha256=${sha256}`).join("&");
    const { status, body } = await call(`/agent/outbox/session${query ? `?${query}` : ""}`);
    if (status !== 200) throw new SignedOut();
    return { ...body, asked: new Set(hashes) };
  }

  // --- one application

  // Set one photo's outcome, found by its hash: a photo retaken meanwhile is left alone.
  function settlePhoto(key, sha256, outcome) {
    return update(key, (entry) => {
      const photo = entry.photos.find((one) => one.sha256 === sha256);
      if (!photo) return false;
      Object.assign(photo, outcome);
    });
  }

  // Every photo's token as the node has it now (a forgotten photo is simply sent again).
  async function askWhichPhotosArrived(entry) {
    const query = entry.photos.map((photo) => `sha256=${photo.sha256}`).join("&");
    const { status, body } = await call(`/agent/outbox/photos?${query}`);
    if (status !== 200) return entry;
    return update(entry.key, (stored) => {
      stored.photos.forEach((photo) => (photo.token = body.have[photo.sha256] || null));
    });
  }

  async function sendPhoto(key, photo, session) {
    const report = (loaded) =>
      progressListeners.forEach((listener) => listener(key, photo.sha256, loaded));
    const url = `/agent/outbox/photos/${photo.sha256}`;
    const { status, body } = await upload(url, photo.blob, session.csrf, report);
    if (status === 422 || status === 413) {
      return settlePhoto(key, photo.sha256, { error: body.error }); // retake this one only
    }
    if (status !== 200) throw new Unreachable(`HTTP ${status}`); // the session changed, ...
    report(photo.size);
    return settlePhoto(key, photo.sha256, { token: body.token });
  }

  async function postForm(entry, session) {
    const form = new URLSearchParams(entry.fields);
    entry.photos.forEach((photo) => form.set(photo.kept, photo.token));
    form.set("csrf_token", session.csrf);
    form.set("idempotency_key", entry.key);
    const { status, body } = await call(entry.action, { method: "POST", body: form });
    if (status === 403) throw new Unreachable("the session changed");
    if (status === 200) return update(entry.key, (stored) => accepted(stored, body));
    const sentBack = { state: "fix", errors: body.errors || {}, error: body.error || "" };
    return update(entry.key, (stored) => Object.assign(stored, sentBack));
  }

  // The node holds it all: keep only what the list shows, drop the personal data and photos.
  function accepted(entry, body) {
    Object.assign(entry, { state: "accepted", trackingCode: body.tracking_code });
    Object.assign(entry, { receipt: body.url, acceptedAt: Date.now(), fields: [] });
    entry.photos = entry.photos.map(({ label, sha256, size, token }) => ({
      label,
      sha256,
      size,
      token,
    }));
  }

  // The photos' tokens from the session probe, or asked for if it did not cover them all.
  function photosArrived(entry, session) {
    if (!session.have || !entry.photos.every((photo) => session.asked.has(photo.sha256))) {
      return askWhichPhotosArrived(entry);
    }
    return update(entry.key, (stored) => {
      stored.photos.forEach((photo) => (photo.token = session.have[photo.sha256] || null));
    });
  }

  async function send(key, session) {
    const starting = { state: "sending", error: "", lastError: "" };
    let entry = await update(key, (stored) => sendable(stored) && Object.assign(stored, starting));
    if (!entry) return; // accepted, sent back or removed meanwhile
    entry = await photosArrived(entry, session);
    if (!entry) return;
    for (const photo of entry.photos) {
      if (!photo.token && !photo.error) await sendPhoto(key, photo, session);
    }
    entry = await get(key); // as it is now, with any photo retaken meanwhile
    if (!entry || entry.state !== "sending") return;
    if (entry.photos.some((photo) => photo.error)) {
      return update(key, (stored) => Object.assign(stored, { state: "fix" }));
    }
    if (entry.photos.some((photo) => !photo.token)) {
      return update(key, (stored) => Object.assign(stored, { state: "waiting" })); // retaken
    }
    await postForm(entry, session);
  }

  // Not now: after the node's Retry-After, else back off (5 s doubling to 5 min; 0.25 s when
  // no answer came: a reset link is often back soon). Signed out: sign in again. Offline (or no
  // link) is no failure of the node: due again at the next round.
  function later(key, error) {
    const offline = (scope.navigator && scope.navigator.onLine === false) || error.noLink;
    return update(key, (entry) => {
      if (!sendable(entry)) return false;
      if (offline && !error.retryAfter && !(error instanceof SignedOut)) {
        Object.assign(entry, { state: "waiting", lastError: String(error.message || error) });
        entry.nextAttemptAt = 0;
        return;
      }
      entry.attempts = (entry.attempts || 0) + 1;
      const first = error.noAnswer ? NO_ANSWER_DELAY : FIRST_DELAY;
      const backoff = Math.min(first * 2 ** (entry.attempts - 1), MAX_DELAY);
      const delay = error.retryAfter || backoff;
      const state = error instanceof SignedOut ? "login" : "waiting";
      Object.assign(entry, { state, lastError: String(error.message || error) });
      entry.nextAttemptAt = Date.now() + delay;
      entry.notBefore = error.retryAfter ? entry.nextAttemptAt : 0; // even forced rounds wait
    });
  }

  // --- rounds

  const sendable = (entry) => entry.state !== "accepted" && entry.state !== "fix";
  const waitingOffline = (entry) => entry.state === "waiting" && !entry.nextAttemptAt;

  // Send what is due (all when `force`; what the node asked to wait for only when `asked`, by
  // the send button): "idle", "done", "unreachable", "signed-out", "later" or "busy".
  async function round(force, asked) {
    const now = Date.now();
    if (force) refusals.since = 0;
    const [, every] = PACE.find(([within]) => now - refusals.since < within);
    if (refusals.since && now - refusals.last < every - 50) return "unreachable";
    const sendableNow = (await all()).filter(sendable);
    const allowed = sendableNow.filter((entry) => asked || !(entry.notBefore > now));
    const due = allowed.filter((entry) => force || !(entry.nextAttemptAt > now));
    if (!due.length) return allowed.length < sendableNow.length ? "later" : "idle";
    let session;
    try {
      const hashes = due.flatMap((entry) => entry.photos.map((photo) => photo.sha256));
      session = await signedIn(hashes.length <= MAX_ASKED ? hashes : []);
    } catch (error) {
      // no write every round while there is no link
      const changed = error.noLink ? due.filter((entry) => !waitingOffline(entry)) : due;
      for (const entry of changed) await later(entry.key, error);
      return error instanceof SignedOut ? "signed-out" : "unreachable";
    }
    const whenTheySignIn = { nextAttemptAt: Date.now() + MAX_DELAY };
    for (const entry of due.filter((entry) => entry.account !== session.account)) {
      await update(entry.key, (stored) => Object.assign(stored, whenTheySignIn));
    }
    for (const entry of due.filter((entry) => entry.account === session.account)) {
      try {
        await send(entry.key, session);
      } catch (error) {
        await later(entry.key, error);
        return error instanceof SignedOut ? "signed-out" : "unreachable";
      }
    }
    return "done";
  }

  // One round at a time across tabs and the worker: a timer's round is skipped while another
  // runs; `wait` queues behind it.
  function sendAll({ force = false, wait = false, asked = false } = {}) {
    const locks = scope.navigator && scope.navigator.locks;
    if (!locks) return round(force, asked);
    const options = wait ? {} : { ifAvailable: true };
    return locks.request(LOCK, options, (lock) => (lock ? round(force, asked) : "busy"));
  }

  // Ask the browser to run a round when the link is back, even with the app closed. A tag per
  // form: a tag whose round failed waits minutes for the browser's retry, even registered again.
  async function wake(key) {
    if (!("serviceWorker" in navigator)) return;
    const registration = await navigator.serviceWorker.ready;
    if (registration.sync) await registration.sync.register(`${SYNC_TAG}:${key}`).catch(() => undefined);
  }

  const wakesUs = (tag) => tag.startsWith(SYNC_TAG);

  // --- forms

  // As edge/masking.py's mask_name: the list on the device shows 张* or W*** F***, no more.
  function masked(name) {
    const words = name.trim().split(/\s+/).filter(Boolean);
    if (!/[\u3400-\u9fff]/.test(name)) return words.map((word) => `${word[0]}***`).join(" ");
    const han = [...words.join("")];
    return han.length === 1 ? "*" : han[0] + "*".repeat(han.length - 1);
  }

  // Keep a form's entry: a new one under a fresh idempotency key, or the `draft` the node sent
  // back, corrected in place (photos chosen again replace their field's). Then wake the sender.
  async function keepForm(form, draft, shown, fresh) {
    const corrected = { ...shown, state: "waiting", errors: {}, error: "", attempts: 0, nextAttemptAt: 0 };
    const key = draft ? draft.key : crypto.randomUUID();
    if (draft) {
      const replaced = new Set(fresh.map((photo) => photo.field));
      await update(draft.key, (entry) => {
        const kept = entry.photos.filter((photo) => !replaced.has(photo.field));
        Object.assign(entry, corrected, { photos: [...kept, ...fresh] });
      });
    } else {
      const entry = { key, account: form.dataset.account, ...corrected };
      const action = new URL(form.action).pathname;
      await put({ ...entry, item: form.dataset.item, action, photos: fresh, createdAt: Date.now() });
    }
    if (navigator.storage && navigator.storage.persist) await navigator.storage.persist();
    await wake(key).catch(() => undefined);
  }

  const api = { all, get, put, update, remove, onChange, onProgress, sendAll, wake, masked, keepForm };
  scope.CunbanOutbox = { ...api, SYNC_TAG, wakesUs };
})(self);

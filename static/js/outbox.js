// The outbox: applications taken in on this device, kept in IndexedDB with their idempotency
// key until the node has accepted them. Shared by the agent's pages and the service worker
// (Background Sync). One sending round: ask who is signed in (and the CSRF token), ask which
// photos the node already holds, PUT each missing photo by the sha256 of its bytes, then post
// the form with the photos' tokens. A retry of any step repeats nothing on the node.
(function (scope) {
  const DB_NAME = "cunban-outbox";
  const STORE = "entries";
  const LOCK = "cunban-outbox";
  const SYNC_TAG = "cunban-outbox";
  const FIRST_DELAY = 5000;
  const MAX_DELAY = 300000;
  const UPLOAD_TIMEOUT = 180000;
  const channel = "BroadcastChannel" in scope ? new BroadcastChannel("cunban-outbox") : null;
  const changeListeners = [];
  const progressListeners = [];

  class Unreachable extends Error {} // no usable answer: try again later
  class SignedOut extends Error {} // the session is gone: the agent signs in again

  // --- storage ---------------------------------------------------------------------------

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
      opening = settled(request);
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

  // --- talking to the node ---------------------------------------------------------------

  // Any answer the node gave on purpose has a JSON body; anything else means "try later".
  function answer(status, text) {
    if (status === 401) throw new SignedOut();
    if (status === 0 || status === 408 || status === 429 || status >= 500) {
      throw new Unreachable(`HTTP ${status}`);
    }
    try {
      return { status, body: JSON.parse(text) };
    } catch (error) {
      throw new Unreachable(`HTTP ${status} without an answer`);
    }
  }

  async function call(url, init = {}) {
    let response;
    try {
      const headers = { Accept: "application/json", ...(init.headers || {}) };
      response = await fetch(url, { ...init, headers, credentials: "same-origin" });
    } catch (error) {
      throw new Unreachable(String(error));
    }
    return answer(response.status, await response.text().catch(() => ""));
  }

  // A PUT with upload progress where pages can report it (XHR); plain fetch in the worker.
  function upload(url, blob, csrf, progress) {
    const headers = { "Content-Type": blob.type || "image/jpeg", "X-CSRF-Token": csrf };
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
      xhr.onerror = xhr.ontimeout = xhr.onabort = () => fail(new Unreachable("upload cut off"));
      xhr.onload = () => {
        try {
          done(answer(xhr.status, xhr.responseText));
        } catch (error) {
          fail(error);
        }
      };
      xhr.send(blob);
    });
  }

  async function signedIn() {
    const { status, body } = await call("/agent/outbox/session");
    if (status !== 200) throw new SignedOut();
    return body;
  }

  // --- one application ---------------------------------------------------------------------

  async function askWhichPhotosArrived(entry) {
    const missing = entry.photos.filter((photo) => !photo.token);
    if (!missing.length) return;
    const query = missing.map((photo) => `sha256=${photo.sha256}`).join("&");
    const { status, body } = await call(`/agent/outbox/photos?${query}`);
    if (status !== 200) return;
    missing.forEach((photo) => (photo.token = body.have[photo.sha256] || null));
    await put(entry);
  }

  async function sendPhotos(entry, session) {
    for (const photo of entry.photos) {
      if (photo.token || photo.error) continue;
      const report = (loaded) =>
        progressListeners.forEach((listener) => listener(entry.key, photo.sha256, loaded));
      const url = `/agent/outbox/photos/${photo.sha256}`;
      const { status, body } = await upload(url, photo.blob, session.csrf, report);
      if (status === 403) throw new Unreachable("the session changed");
      if (status === 200) photo.token = body.token;
      else photo.error = body.error || `HTTP ${status}`; // this photo only: retake it
      report(photo.size);
      await put(entry);
    }
  }

  async function postForm(entry, session) {
    const form = new URLSearchParams(entry.fields);
    entry.photos.forEach((photo) => form.set(photo.kept, photo.token));
    form.set("csrf_token", session.csrf);
    form.set("idempotency_key", entry.key);
    const { status, body } = await call(entry.action, { method: "POST", body: form });
    if (status === 403) throw new Unreachable("the session changed");
    if (status === 200) return accepted(entry, body);
    entry.state = "fix";
    entry.errors = body.errors || {};
    entry.error = body.error || "";
    await put(entry);
  }

  // The node holds it all: keep only what the list shows, drop the personal data and photos.
  async function accepted(entry, body) {
    Object.assign(entry, { state: "accepted", trackingCode: body.tracking_code });
    Object.assign(entry, { receipt: body.url, acceptedAt: Date.now(), fields: [] });
    entry.photos = entry.photos.map(({ label, sha256, size, token }) => ({
      label,
      sha256,
      size,
      token,
    }));
    await put(entry);
  }

  async function send(entry, session) {
    Object.assign(entry, { state: "sending", error: "", lastError: "" });
    await put(entry);
    await askWhichPhotosArrived(entry);
    await sendPhotos(entry, session);
    if (entry.photos.some((photo) => photo.error)) {
      entry.state = "fix";
      return put(entry);
    }
    await postForm(entry, session);
  }

  // Not now: back off (5 s doubling to 5 min); a signed-out agent is asked to sign in again.
  async function later(entry, error) {
    entry.attempts = (entry.attempts || 0) + 1;
    const delay = Math.min(FIRST_DELAY * 2 ** (entry.attempts - 1), MAX_DELAY);
    const state = error instanceof SignedOut ? "login" : "waiting";
    Object.assign(entry, { state, lastError: String(error.message || error) });
    entry.nextAttemptAt = Date.now() + delay;
    await put(entry);
  }

  // --- rounds ------------------------------------------------------------------------------

  const sendable = (entry) => entry.state !== "accepted" && entry.state !== "fix";

  // Send what is due (everything when `force`). Returns "idle", "done", "unreachable",
  // "signed-out" or "busy" (another page or the worker is sending).
  async function round(force) {
    const now = Date.now();
    const due = (await all()).filter(
      (entry) => sendable(entry) && (force || !(entry.nextAttemptAt > now)),
    );
    if (!due.length) return "idle";
    let session;
    try {
      session = await signedIn();
    } catch (error) {
      for (const entry of due) await later(entry, error);
      return error instanceof SignedOut ? "signed-out" : "unreachable";
    }
    for (const entry of due.filter((entry) => entry.account !== session.account)) {
      entry.nextAttemptAt = Date.now() + MAX_DELAY; // another agent's: when they sign in
      await put(entry);
    }
    for (const entry of due.filter((entry) => entry.account === session.account)) {
      try {
        await send(entry, session);
      } catch (error) {
        await later(entry, error);
        return error instanceof SignedOut ? "signed-out" : "unreachable";
      }
    }
    return "done";
  }

  function sendAll({ force = false } = {}) {
    const locks = scope.navigator && scope.navigator.locks;
    if (!locks) return round(force);
    return locks.request(LOCK, { ifAvailable: true }, (lock) => (lock ? round(force) : "busy"));
  }

  // Ask the browser to run a round when the link is back, even with the app closed.
  async function wake() {
    if (!("serviceWorker" in navigator)) return;
    const registration = await navigator.serviceWorker.ready;
    if (registration.sync) await registration.sync.register(SYNC_TAG).catch(() => undefined);
  }

  scope.CunbanOutbox = { all, get, put, remove, onChange, onProgress, sendAll, wake, SYNC_TAG };
})(self);

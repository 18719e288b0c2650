// The outbox page: what this device keeps for the signed-in agent, drawn from IndexedDB, with
// a progress bar per photo while it is sent. A photo the node refused is retaken here alone;
// an application the node sent back is corrected in its form. Accepted ones show their code.
(function () {
  const root = document.getElementById("outbox");
  const Outbox = window.CunbanOutbox;
  const Photo = window.CunbanPhoto;
  if (!root || !Outbox || !Photo) return;
  const text = JSON.parse(document.getElementById("outbox-text").textContent);
  const account = root.dataset.account;
  const sendButton = document.querySelector("[data-outbox-send]");
  const loginNote = document.querySelector("[data-outbox-login]");

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    Object.entries(attributes).forEach(([name, value]) => node.setAttribute(name, value));
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function photoRow(entry, photo) {
    const sent = Boolean(photo.token);
    const bar = el("progress", { max: String(photo.size), value: String(sent ? photo.size : 0) });
    const status = photo.error
      ? text.photo_refused
      : sent
        ? text.photo_sent
        : text.photo_waiting;
    const row = el("li", { "data-photo": photo.sha256 }, `${photo.label} `, bar, ` ${status}`);
    if (photo.error) {
      row.append(el("p", { class: "error" }, photo.error));
      const input = el("input", { type: "file", accept: "image/*", capture: "environment" });
      input.addEventListener("change", () => retake(entry.key, photo.sha256, input));
      row.append(el("label", {}, text.retake, " ", input));
    }
    return row;
  }

  function retryNote(entry) {
    if (entry.state !== "waiting" || !entry.lastError || !(entry.nextAttemptAt > Date.now())) {
      return null;
    }
    const time = new Date(entry.nextAttemptAt).toLocaleTimeString();
    return el("p", { class: "muted" }, text.retry_at.replace("%(time)s", time));
  }

  function entryCard(entry) {
    const card = el("section", { class: "card", "data-entry": entry.key, "data-state": entry.state });
    const created = new Date(entry.createdAt).toLocaleString();
    card.append(el("h2", {}, `${entry.item} · ${entry.applicant || ""}`), el("p", {}, el("strong", {}, text[entry.state]), ` · ${created}`));
    if (entry.state === "accepted") {
      const link = el("a", { href: entry.receipt }, text.receipt);
      if (entry.trackingCode) {
        const code = el("strong", { "data-code": "" }, entry.trackingCode);
        card.append(el("p", {}, `${text.code}: `, code, " ", link));
      } else {
        card.append(el("p", {}, link)); // a disclosure or a listing: its page says where it is
      }
      const drop = el("button", { type: "button", class: "secondary" }, text.remove);
      drop.addEventListener("click", () => Outbox.remove(entry.key));
      card.append(drop);
      return card;
    }
    if (entry.error) card.append(el("p", { class: "error" }, entry.error));
    Object.values(entry.errors || {}).forEach((message) => card.append(el("p", { class: "error" }, message)));
    if (entry.state === "fix" && !entry.photos.some((photo) => photo.error)) {
      card.append(el("p", {}, el("a", { class: "button", href: `${entry.action}?outbox=${entry.key}` }, text.edit)));
    }
    if (entry.state === "fix") {
      const drop = el("button", { type: "button", class: "secondary", "data-drop": "" }, text.discard);
      drop.addEventListener("click", () => window.confirm(text.discard_confirm) && Outbox.remove(entry.key));
      card.append(drop);
    }
    card.append(retryNote(entry) || "", el("ul", { class: "items" }, ...entry.photos.map((photo) => photoRow(entry, photo))));
    return card;
  }

  async function draw() {
    const entries = (await Outbox.all()).sort((a, b) => b.createdAt - a.createdAt);
    const mine = entries.filter((entry) => entry.account === account);
    const others = entries.filter((entry) => entry.account !== account && entry.state !== "accepted");
    loginNote.hidden = !mine.some((entry) => entry.state === "login");
    sendButton.hidden = !mine.some((entry) => entry.state !== "accepted");
    const cards = mine.map(entryCard);
    if (!mine.length) cards.push(el("p", { class: "muted" }, text.empty));
    if (others.length) {
      cards.push(el("p", { class: "notice" }, text.other_account.replace("%(count)s", others.length)));
    }
    root.replaceChildren(...cards);
  }

  async function retake(key, sha256, input) {
    let blob;
    try {
      blob = await Photo.shrink(input.files[0]);
    } catch (error) {
      input.after(el("p", { class: "error" }, text.unreadable));
      return;
    }
    const retaken = { blob, size: blob.size, sha256: await Photo.sha256(blob), token: null, error: "" };
    await Outbox.update(key, (entry) => {
      const photo = entry.photos.find((one) => one.sha256 === sha256);
      if (!photo) return false;
      Object.assign(photo, retaken);
      if (!entry.photos.some((one) => one.error) && !Object.keys(entry.errors || {}).length) {
        Object.assign(entry, { state: "waiting", attempts: 0, nextAttemptAt: 0 });
      }
    });
    Outbox.sendAll({ force: true, wait: true });
  }

  Outbox.onChange(() => draw());
  Outbox.onProgress((key, sha256, loaded) => {
    const bar = root.querySelector(`[data-entry="${key}"] [data-photo="${sha256}"] progress`);
    if (bar) bar.value = loaded;
  });
  sendButton.addEventListener("click", () =>
    Outbox.sendAll({ force: true, wait: true, asked: true }),
  );
  draw();
})();

// The agent's other forms (村务公开, 我有话说 for a resident, a market listing for a seller) go
// through the same outbox as intake (static/js/outbox.js): kept in IndexedDB under a fresh
// idempotency key with their photos shrunk on this device, sent when the link is back, shown
// on /agent/outbox with their state. Opened as ?outbox=<key>, the form shows a kept entry the
// node sent back, to be corrected. A form opts in with `data-outbox`; its data attributes say
// what the list shows (`data-item`, and `data-subject` or the field `data-subject-field`,
// masked as a name with `data-mask`). Without JavaScript the form posts as it is.
(function () {
  const form = document.querySelector("form[data-outbox]");
  const Outbox = window.CunbanOutbox;
  const Photo = window.CunbanPhoto;
  if (!form || !Outbox || !Photo || !window.indexedDB || !window.crypto?.subtle) return;
  const SKIPPED = new Set(["csrf_token", "idempotency_key"]);
  const draftKey = new URLSearchParams(location.search).get("outbox");
  let draft = null;

  function say(input, message, className) {
    const note = document.createElement("p");
    note.className = className;
    note.dataset.note = "";
    note.textContent = message;
    input.after(note);
  }

  function labelOf(input) {
    const label = form.querySelector(`label[for="${input.id}"]`);
    return label ? label.textContent.trim() : input.name;
  }

  // One photo per chosen file: `kept_<name>` for a single one, `kept_<name>_<n>` for several.
  async function photosOf() {
    const fresh = [];
    for (const input of form.querySelectorAll("input[type=file]")) {
      const files = [...input.files];
      for (const [index, file] of files.entries()) {
        let blob;
        try {
          blob = await Photo.shrink(file);
        } catch (error) {
          say(input, form.dataset.unreadable, "error");
          throw error;
        }
        const kept = input.multiple ? `kept_${input.name}_${index + 1}` : `kept_${input.name}`;
        const label = files.length > 1 ? `${labelOf(input)} ${index + 1}` : labelOf(input);
        const sha256 = await Photo.sha256(blob);
        fresh.push({ field: input.name, kept, label, sha256, blob, size: blob.size, token: null, error: "" });
      }
    }
    return fresh;
  }

  function subjectOf(data) {
    const name = form.dataset.subjectField;
    if (!name) return form.dataset.subject || "";
    const value = String(data.get(name) || "").slice(0, 40);
    return "mask" in form.dataset ? Outbox.masked(value) : value;
  }

  async function keep(submitter) {
    const data = new FormData(form, submitter);
    const fields = [...data].filter(([name, value]) => typeof value === "string" && !SKIPPED.has(name));
    const fresh = await photosOf();
    await Outbox.keepForm(form, draft, { applicant: subjectOf(data), fields }, fresh);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((button) => (button.disabled = true));
    form.querySelectorAll("[data-note]").forEach((note) => note.remove());
    try {
      await keep(event.submitter);
      location.assign("/agent/outbox");
    } catch (error) {
      console.warn("not kept:", error);
      buttons.forEach((button) => (button.disabled = false));
    }
  });

  // --- a kept entry the node sent back, shown again to be corrected ------------------------

  function fill(name, value) {
    const fields = form.querySelectorAll(`[name="${name}"]`);
    fields.forEach((field) => {
      if (field.type === "checkbox" || field.type === "radio") field.checked = field.value === value;
      else if (field.type !== "file" && field.tagName !== "BUTTON") field.value = value;
    });
  }

  async function showDraft() {
    const kept = await Outbox.get(draftKey);
    if (!kept || kept.state !== "fix" || kept.account !== form.dataset.account) return;
    draft = kept;
    form.querySelectorAll("input[type=checkbox]").forEach((box) => (box.checked = false));
    draft.fields.forEach(([name, value]) => fill(name, value));
    const withPhotos = new Set(draft.photos.map((photo) => photo.field));
    withPhotos.forEach((name) => {
      const input = form.querySelector(`input[type=file][name="${name}"]`);
      if (input) say(input, form.dataset.savedPhoto, "muted");
    });
    Object.entries(draft.errors || {}).forEach(([name, message]) => {
      const field = form.querySelector(`[name="${name}"]`) || form.querySelector(`[name^="${name}"]`);
      if (field) say(field, message, "error");
    });
    if (draft.error) say(form.querySelector("button"), draft.error, "error");
  }

  if (draftKey) showDraft().catch((error) => console.warn("kept entry not shown:", error));
})();

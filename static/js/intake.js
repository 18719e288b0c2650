// The intake form, enhanced where scripts, IndexedDB and crypto run: photos shrink on this
// device (static/js/photo.js) and the application goes to the outbox (static/js/outbox.js)
// under a fresh idempotency key, so it is kept even with no connection and sent when the link
// is back. Opened as ?outbox=<key>, the form shows a kept application again to be corrected.
// Without JavaScript the form posts as it is and the node shrinks the photos.
(function () {
  const form = document.querySelector("form[data-intake]");
  const Outbox = window.CunbanOutbox;
  const Photo = window.CunbanPhoto;
  if (!form || !Outbox || !Photo || !window.indexedDB || !window.crypto?.subtle) return;
  const SKIPPED = new Set(["csrf_token", "idempotency_key"]);
  const draftKey = new URLSearchParams(location.search).get("outbox");
  let draft = null;

  function keptName(input) {
    return input.name === "signature_photo" ? "kept_signature" : `kept_${input.name.slice(9)}`;
  }

  function labelOf(input) {
    const label = form.querySelector(`label[for="${input.id}"]`);
    return label ? label.textContent.trim() : input.name;
  }

  function say(input, message, className) {
    const note = document.createElement("p");
    note.className = className;
    note.dataset.note = "";
    note.textContent = message;
    input.after(note);
  }

  async function photoOf(input) {
    const file = input.files[0];
    let blob;
    try {
      blob = await Photo.shrink(file);
    } catch (error) {
      say(input, form.dataset.unreadable, "error");
      throw error;
    }
    const sha256 = await Photo.sha256(blob);
    const photo = { field: input.name, kept: keptName(input), label: labelOf(input), sha256 };
    return { ...photo, blob, size: blob.size, token: null, error: "" };
  }

  async function photosOf() {
    const chosen = [...form.querySelectorAll("input[type=file]")].filter((i) => i.files.length);
    const fresh = [];
    for (const input of chosen) fresh.push(await photoOf(input));
    return fresh;
  }

  function fieldsOf() {
    return [...new FormData(form)].filter(
      ([name, value]) => typeof value === "string" && !SKIPPED.has(name),
    );
  }

  async function keep() {
    const fresh = await photosOf();
    const applicant = Outbox.masked(String(new FormData(form).get("name") || ""));
    await Outbox.keepForm(form, draft, { applicant, fields: fieldsOf() }, fresh);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button:not([type=button])");
    button.disabled = true;
    form.querySelectorAll("[data-note]").forEach((note) => note.remove());
    try {
      await keep();
      location.assign("/agent/outbox");
    } catch (error) {
      console.warn("not kept:", error);
      button.disabled = false;
    }
  });

  // --- a kept application, shown again to be corrected ------------------------------------

  function fill(name, value) {
    const field = form.elements.namedItem(name);
    if (!field) return;
    if (field instanceof RadioNodeList || field.type === "checkbox" || field.type === "radio") {
      form.querySelectorAll(`[name="${name}"]`).forEach((one) => {
        if (one.type === "checkbox" || one.type === "radio") one.checked = one.value === value;
        else one.value = value;
      });
    } else if (field.type !== "file") {
      field.value = value;
    }
  }

  function inputFor(key) {
    if (key === "signature") return form.elements.namedItem("signature_photo");
    const name = key.startsWith("m_") ? `material_${key.slice(2)}` : key;
    return form.elements.namedItem(name);
  }

  async function showDraft() {
    const kept = await Outbox.get(draftKey);
    // only an application the node sent back, and only for the agent who took it in
    if (!kept || kept.state !== "fix" || kept.account !== form.dataset.account) return;
    draft = kept;
    draft.fields.forEach(([name, value]) => fill(name, value));
    draft.photos.forEach((photo) => {
      const input = form.elements.namedItem(photo.field);
      if (!input) return;
      input.required = false;
      say(input, form.dataset.savedPhoto, "muted");
    });
    const signed = draft.fields.some(([name, value]) => name === "signature_data" && value);
    const pad = form.querySelector("[data-signature]");
    if (signed && pad) say(pad, form.dataset.savedSignature, "muted"); // drawn before, kept
    Object.entries(draft.errors || {}).forEach(([key, message]) => {
      const input = inputFor(key);
      if (input && input.after) say(input, message, "error");
    });
  }

  if (draftKey) showDraft().catch((error) => console.warn("kept application not shown:", error));
})();

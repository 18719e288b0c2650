// 核验证明 (templates/edge/seals/check.html): checks a village certificate's QR code with no
// network. The QR holds `<verify URL>#<token>`; the token (edge/seals/compact.py) is base32 of
// key id (4 bytes) + Ed25519 signature (64) + compact JSON, signed as
// "cunban-qr-1\n<seal id>\n<JSON>" (the seal id is the URL's last path segment).
// Keys: those the page was served with, updated from /seals/keys.json when it answers (the service
// worker keeps both for offline use). WebCrypto Ed25519 does the check; a browser without it
// (older Android WebViews, Safari before 17) imports the vendored @noble/ed25519 verifier
// (static/js/noble-ed25519.js, kept by the worker) and checks with it instead.
(() => {
  const box = document.getElementById("seal-check");
  if (!box) return;
  box.hidden = false;
  const reference = JSON.parse(document.getElementById("seal-reference").textContent);
  const labels = JSON.parse(box.dataset.labels);
  const keys = new Map(reference.keys.map((key) => [key.kid, key.raw]));
  const result = document.getElementById("seal-result");
  const text = document.getElementById("seal-text");

  fetch("/seals/keys.json", { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : []))
    .then((list) => list.forEach((key) => key.kid && keys.set(key.kid, key.raw)))
    .catch(() => undefined);

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const fromHex = (value) => new Uint8Array(value.match(/../g).map((pair) => parseInt(pair, 16)));

  function base32(value) {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = 0;
    let buffer = 0;
    const out = [];
    for (const char of value) {
      const index = alphabet.indexOf(char);
      if (index < 0) return null;
      buffer = (buffer << 5) | index;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.push((buffer >> bits) & 0xff);
      }
    }
    return new Uint8Array(out);
  }

  function parse(input) {
    const [address, encoded] = input.trim().split("#");
    const sealId = (address || "").replace(/\/+$/, "").split("/").pop();
    const raw = base32((encoded || "").toUpperCase().replace(/=+$/, ""));
    if (!raw || raw.length <= 68 || !/^[0-9A-Z]{26}$/.test(sealId)) return null;
    try {
      const body = raw.slice(68);
      const fields = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
      if (!Array.isArray(fields) || fields.length < 6 || !Array.isArray(fields[5])) return null;
      return { sealId, kid: hex(raw.slice(0, 4)), signature: raw.slice(4, 68), body, fields };
    } catch {
      return null;
    }
  }

  const notSupported = (error) => error && error.name === "NotSupportedError";

  // WebCrypto's Ed25519, or null when this browser has none.
  async function webCryptoVerify(publicKey, signature, message) {
    try {
      const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch (error) {
      if (notSupported(error) || error instanceof TypeError) return null;
      throw error;
    }
  }

  // The pure-JS verifier, loaded only the first time WebCrypto lacks Ed25519; strict RFC 8032
  // as WebCrypto (not ZIP-215).
  let fallback = null;
  async function pureVerify(publicKey, signature, message) {
    fallback = fallback || import(box.dataset.ed25519);
    const ed = await fallback;
    return ed.verifyAsync(signature, message, publicKey, { zip215: false });
  }

  async function holds(parsed) {
    const publicKey = fromHex(keys.get(parsed.kid));
    const head = new TextEncoder().encode(`cunban-qr-1\n${parsed.sealId}\n`);
    const message = new Uint8Array(head.length + parsed.body.length);
    message.set(head);
    message.set(parsed.body, head.length);
    const checked = await webCryptoVerify(publicKey, parsed.signature, message);
    return checked === null ? pureVerify(publicKey, parsed.signature, message) : checked;
  }

  function line(list, label, value) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }

  function show(verdict, parsed) {
    result.replaceChildren();
    const head = document.createElement("p");
    head.className = verdict === "valid" ? "verdict-valid" : "notice error";
    head.dataset.verdict = verdict;
    head.textContent = box.dataset[verdict];
    result.append(head);
    if (!parsed || verdict === "unreadable") return;
    const [itemCode, office, issuedOn, name, idShort, answers] = parsed.fields;
    const item = reference.items[itemCode] || { name: itemCode, fields: [] };
    const list = document.createElement("dl");
    list.className = "facts";
    line(list, labels.item, item.name);
    line(list, labels.office, reference.offices[office] || office);
    line(list, labels.issued_on, issuedOn);
    line(list, labels.name, name);
    if (idShort) line(list, labels.id_number, idShort.length === 8 ? `${idShort.slice(0, 4)}**********${idShort.slice(4)}` : idShort);
    const leftOut = [];
    answers.forEach((value, index) => {
      const field = item.fields[index] || { label: String(index + 1), choices: {} };
      if (value === null) leftOut.push(field.label);
      else if (value !== "") line(list, field.label, field.choices[value] || value);
    });
    line(list, labels.seal_id, parsed.sealId);
    result.append(list);
    if (leftOut.length) {
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = box.dataset.leftOut + leftOut.join("、");
      result.append(note);
    }
  }

  async function check(input) {
    const parsed = parse(input);
    if (!parsed) return show("unreadable", null);
    if (!keys.has(parsed.kid)) return show("unknown", parsed);
    try {
      return show((await holds(parsed)) ? "valid" : "invalid", parsed);
    } catch {
      return show("unsupported", parsed);
    }
  }

  document.getElementById("seal-verify").addEventListener("click", () => check(text.value));

  const scan = document.getElementById("seal-scan");
  const video = document.getElementById("seal-video");
  scan.addEventListener("click", async () => {
    try {
      if (!("BarcodeDetector" in window)) throw new Error("no BarcodeDetector");
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const stop = () => {
        stream.getTracks().forEach((track) => track.stop());
        video.hidden = true;
      };
      const look = async () => {
        const found = await detector.detect(video).catch(() => []);
        if (found.length) {
          stop();
          text.value = found[0].rawValue;
          return check(found[0].rawValue);
        }
        requestAnimationFrame(look);
      };
      look();
    } catch {
      result.replaceChildren();
      const note = document.createElement("p");
      note.className = "notice";
      note.textContent = box.dataset.noCamera;
      result.append(note);
    }
  });
})();

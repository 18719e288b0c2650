// Photos shrink before they travel: decoded on this device, turned upright (EXIF), drawn at a
// long side of at most 1600 px and re-encoded as JPEG of at most 300 KB, so the camera's
// original (and its metadata) never leaves the phone. Named by the sha256 of the bytes sent.
(function (scope) {
  const LONG_SIDE = 1600;
  const MAX_BYTES = 300000;
  const QUALITIES = [0.82, 0.72, 0.62, 0.52, 0.42];
  const SHRINK_STEPS = 6;

  function canvasOf(width, height) {
    if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    return canvas;
  }

  function encode(canvas, quality) {
    if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
    return new Promise((done) => canvas.toBlob(done, "image/jpeg", quality));
  }

  async function draw(bitmap, scale) {
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = canvasOf(width, height);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // a transparent PNG lands on white, as on paper
    context.fillRect(0, 0, width, height);
    context.drawImage(bitmap, 0, 0, width, height);
    for (const quality of QUALITIES) {
      const blob = await encode(canvas, quality);
      if (blob && blob.size <= MAX_BYTES) return blob;
    }
    return null;
  }

  // A JPEG Blob within the limits; rejects when the browser cannot decode the file.
  async function shrink(file) {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    try {
      let scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
      for (let step = 0; step < SHRINK_STEPS; step += 1, scale *= 0.75) {
        const blob = await draw(bitmap, scale);
        if (blob) return blob;
      }
      throw new Error("the photo cannot be made small enough");
    } finally {
      bitmap.close();
    }
  }

  async function sha256(blob) {
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  scope.CunbanPhoto = { shrink, sha256, LONG_SIDE, MAX_BYTES };
})(self);

// A listing's photos shrink on the phone before the form is sent (long side ≤ 1600 px,
// ≤ 300 KB JPEG, EXIF dropped), as intake photos do; without this script the node re-encodes
// the originals. At most three are kept.
(function () {
  const Photo = window.CunbanPhoto;
  if (!Photo || typeof DataTransfer === "undefined") return;
  for (const input of document.querySelectorAll("input[data-shrink]")) {
    input.addEventListener("change", async () => {
      const chosen = Array.from(input.files).slice(0, 3);
      const smaller = new DataTransfer();
      for (const file of chosen) {
        try {
          const blob = await Photo.shrink(file);
          smaller.items.add(new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }));
        } catch (error) {
          smaller.items.add(file); // the node says if it cannot read it
        }
      }
      input.files = smaller.files;
    });
  }
})();

// Signature pad: draw with finger or pen; the PNG travels in a hidden field on submit.
// Without JavaScript the pad stays hidden and the photo of a signed paper form is used.
(function () {
  document.querySelectorAll("[data-signature]").forEach(function (pad) {
    var canvas = pad.querySelector("canvas");
    var field = pad.querySelector("input[name=signature_data]");
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    pad.hidden = false;
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width,
              (event.clientY - box.top) * canvas.height / box.height];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      ctx.beginPath();
      ctx.moveTo.apply(ctx, point(event));
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      ctx.lineTo.apply(ctx, point(event));
      ctx.stroke();
      drawn = true;
    });
    canvas.addEventListener("pointerup", function () { drawing = false; });
    pad.querySelector("[data-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
    });
    pad.closest("form").addEventListener("submit", function () {
      if (drawn) field.value = canvas.toDataURL("image/png");
    });
  });
})();

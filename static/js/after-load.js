(function () {
  var started = false;
  function add() {
    var waiting = document.querySelectorAll('script[type="after-load"]');
    for (var i = 0; i < waiting.length; i++) {
      var script = document.createElement("script");
      script.src = waiting[i].getAttribute("src");
      script.async = false;
      waiting[i].parentNode.replaceChild(script, waiting[i]);
    }
  }
  function start() {
    if (started) return;
    started = true;
    add();
    document.addEventListener("htmx:after:swap", add);
  }
  window.addEventListener("load", start);
  ["pointerdown", "keydown", "touchstart"].forEach(function (type) {
    window.addEventListener(type, start, { capture: true, once: true, passive: true });
  });
})();

(function () {
  var started = false;
  var pending = 0;
  var held = null;
  function done() {
    pending -= 1;
    if (pending === 0 && held) {
      var form = held[0], submitter = held[1];
      held = null;
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    }
  }
  function add() {
    var waiting = document.querySelectorAll('script[type="after-load"]');
    for (var i = 0; i < waiting.length; i++) {
      var script = document.createElement("script");
      script.src = waiting[i].getAttribute("src");
      script.async = false;
      pending += 1;
      script.onload = script.onerror = done;
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
  // A form sent before its scripts ran (the outbox keeps it offline) waits for them.
  window.addEventListener("submit", function (event) {
    start();
    if (pending > 0) {
      event.preventDefault();
      event.stopImmediatePropagation();
      held = [event.target, event.submitter];
    }
  }, true);
})();

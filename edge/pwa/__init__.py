"""The installable agent app: web app manifest, service worker and offline page."""

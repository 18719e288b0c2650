"""The signed-in landing pages: /agent/ for village agents, /staff/ for reviewers."""

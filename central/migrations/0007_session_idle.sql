-- Idle timeout: when a session was last used (NULL: not since it started); a session unused
-- for CUNBAN_SESSION_IDLE_MINUTES ends, whatever its expires_at says.
ALTER TABLE sessions ADD COLUMN seen_at TEXT;

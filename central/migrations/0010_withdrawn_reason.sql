-- Central's copy of an application keeps why it was withdrawn (edge migration 0016).
ALTER TABLE edge_applications ADD COLUMN withdrawn_reason TEXT;

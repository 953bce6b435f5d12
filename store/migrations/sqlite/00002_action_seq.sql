-- The position of an action in its compiled timeline, so that actions at the same instant keep
-- the plan's order (milestones before the notices they trigger).

-- +goose Up
ALTER TABLE actions ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE actions DROP COLUMN seq;

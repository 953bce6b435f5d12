-- Answers to the survey after the shutdown, kept with the feedback they belong to: a JSON object
-- of question id to answer.

-- +goose Up
ALTER TABLE feedback ADD COLUMN answers TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE feedback DROP COLUMN answers;

-- The metrics read the deployments of some environments that finished in a window. Without
-- this index SQLite's planner walks every deployment of those environments (by start time)
-- and checks each one's finish: 0.32 s for a 90-day window in a 1,000,000-row history,
-- against 0.01 s when it can seek the window. The lists a figure links to (`finished_from`,
-- `finished_to`) seek it too.
CREATE INDEX deployments_finished ON deployments (environment_id, finished_at);

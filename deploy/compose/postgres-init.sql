-- Runs once, when the data volume is new: Dagster's own storage beside the app database.
CREATE DATABASE dagster OWNER video_pipeline;

"""The job queue: work that must follow a change without making the request wait for it."""

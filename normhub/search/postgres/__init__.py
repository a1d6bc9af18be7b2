"""The PostgreSQL search backend: documents in the database, written in the writer's transaction."""

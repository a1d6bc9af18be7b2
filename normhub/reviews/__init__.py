"""Reviews of norms in force: did they work, did their assumptions hold."""

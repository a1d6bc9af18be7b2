"""The record: what a community's norms came to, and what a member did, in counts and shares."""

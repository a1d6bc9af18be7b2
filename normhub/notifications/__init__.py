"""In-app notifications: who is told what, when, and how (the bell, the page, email)."""

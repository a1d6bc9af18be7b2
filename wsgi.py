"""WSGI entry point: ``gunicorn wsgi:app``."""

from normhub import create_app

app = create_app()

from flask.cli import AppGroup

digest_cli = AppGroup("digest")

from flask.cli import AppGroup

user_cli = AppGroup("user")

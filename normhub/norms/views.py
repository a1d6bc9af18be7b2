from flask import Blueprint

bp = Blueprint("norms", __name__)

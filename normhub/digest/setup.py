"""What the digest brings to the app: its pages, the ``flask digest`` commands, and
telling exposure's coverage which members it does not reach."""

from __future__ import annotations

from flask import Flask

from normhub import events
from normhub.accounts.data_export import register_section
from normhub.digest.account_data import digest_section, erase_digest_records
from normhub.digest.cli import digest_cli
from normhub.digest.preferences import count_without_digest
from normhub.digest.views import bp
from normhub.exposure.coverage import register_unreachable_counter


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(digest_cli)
    register_unreachable_counter(count_without_digest)
    register_section("digest", digest_section)
    events.Account.Deleting.in_transaction.connect(erase_digest_records)

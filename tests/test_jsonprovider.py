"""Responses and ``tojson`` go through orjson but keep Flask's JSON conventions."""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from flask import jsonify, render_template_string

from normhub.jsonprovider import OrjsonProvider


@dataclass
class Point:
    x: int
    y: int


class Pair(NamedTuple):
    left: int
    right: int


def test_the_app_uses_orjson(app):
    assert isinstance(app.json, OrjsonProvider)


def test_values_match_flasks_own_provider(app):
    value = {
        "b": [1, 2.5, None, True],
        "a": {"when": datetime(2026, 11, 23, 17, 0), "day": date(2026, 11, 23)},
        "point": Point(1, 2),
        "text": "Ünïcode <b>",
    }
    with app.app_context():
        ours = app.json.dumps(value)
        flasks = json.dumps(value, default=app.json.default, sort_keys=True)
    assert json.loads(ours) == json.loads(flasks)
    # Flask's conventions: sorted keys, dates as HTTP dates, dataclasses as objects.
    assert ours.index('"a"') < ours.index('"b"')
    assert '"Mon, 23 Nov 2026 17:00:00 GMT"' in ours
    assert '"point":{"x":1,"y":2}' in ours


def test_json_responses_are_compact_with_a_trailing_newline(app):
    with app.test_request_context():
        response = jsonify({"z": 1, "a": [1, 2]})
    assert response.mimetype == "application/json"
    assert response.get_data() == b'{"a":[1,2],"z":1}\n'


def test_tojson_in_templates_goes_through_orjson_and_still_escapes_html(app):
    with app.test_request_context():
        rendered = render_template_string("{{ value|tojson }}", value={"t": "</script>&'", "a": 1})
    assert "</script>" not in rendered
    assert json.loads(rendered) == {"t": "</script>&'", "a": 1}
    assert rendered.startswith('{"a":1,')  # sorted, and compact: orjson wrote it


def test_what_orjson_refuses_is_written_by_flasks_provider(app):
    value = {
        "pair": Pair(1, 2),
        "big": 2**70,
        "ordered": OrderedDict(b=1, a=2),
        "counted": Counter("aab"),
    }
    with app.test_request_context():
        written = json.loads(app.json.dumps(value))
        answered = jsonify(value).get_json()
    expected = {
        "pair": [1, 2],
        "big": 2**70,
        "ordered": {"a": 2, "b": 1},
        "counted": {"a": 2, "b": 1},
    }
    assert written == answered == expected

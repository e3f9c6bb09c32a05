"""Small helpers shared by the HTTP layer: JSON rendering and the answer object handlers return."""
import datetime
import json


def render_value(value):
    """JSON form of a stored value, as Salesforce renders it in REST responses (dates and datetimes
    as text, anything else unchanged)."""
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+0000" % (value.microsecond // 1000)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _render(value):
    if isinstance(value, datetime.date):
        return render_value(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError("cannot render %r as JSON" % type(value))


def to_json(body):
    return json.dumps(body, default=_render, separators=(",", ":")).encode("utf-8")


class Answer:
    """An HTTP answer before it is written: status, JSON body (None for no body), extra headers."""

    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

"""Salesforce's wording and layout for query errors."""
from ..errors import SFError

CUSTOM_FIELD_HINT = ("If you are attempting to use a custom field, be sure to append the '__c' after the custom "
                     "field name. Please reference your WSDL or the describe call for the appropriate names.")
CUSTOM_OBJECT_HINT = ("If you are attempting to use a custom object, be sure to append the '__c' after the entity "
                      "name. Please reference your WSDL or the describe call for the appropriate names.")
CUSTOM_RELATIONSHIP_HINT = ("If you are attempting to use a custom relationship, be sure to append the '__r' after "
                            "the custom relationship name. Please reference your WSDL or the describe call for the "
                            "appropriate names.")


class QueryError(Exception):
    """A query error located in the statement; ``execute`` turns it into an SFError with the statement echoed.

    ``pos`` None means Salesforce answers with the bare reason (no statement, no caret).
    """

    def __init__(self, code, reason, pos=None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.pos = pos


def no_such_column(name, entity, pos):
    return QueryError("INVALID_FIELD", f"No such column '{name}' on entity '{entity}'. {CUSTOM_FIELD_HINT}", pos)


def unknown_relationship(name, pos):
    return QueryError("INVALID_FIELD", f"Didn't understand relationship '{name}' in field path. "
                      f"{CUSTOM_RELATIONSHIP_HINT}", pos)


def unknown_child_relationship(name, pos):
    return QueryError("INVALID_TYPE", f"Didn't understand relationship '{name}' in FROM part of query call. "
                      f"{CUSTOM_RELATIONSHIP_HINT}", pos)


def unsupported_object(name, pos):
    return QueryError("INVALID_TYPE", f"sObject type '{name}' is not supported. {CUSTOM_OBJECT_HINT}", pos)


def malformed(reason, pos=None):
    return QueryError("MALFORMED_QUERY", reason, pos)


def unexpected_token(text, pos):
    return malformed(f"unexpected token: '{text}'", pos)


def to_sferror(soql, error):
    """SFError(400) whose message echoes the offending line with a caret under the error column."""
    if error.pos is None:
        return SFError(400, error.code, error.reason)
    lines = soql.split("\n") or [""]
    line_no = min(max(error.pos.line, 1), len(lines))
    statement = lines[line_no - 1].rstrip("\r")
    caret = " " * (error.pos.column - 1) + "^"
    message = f"\n{statement}\n{caret}\nERROR at Row:{error.pos.line}:Column:{error.pos.column}\n{error.reason}"
    return SFError(400, error.code, message)

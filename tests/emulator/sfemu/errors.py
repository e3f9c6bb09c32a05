"""Salesforce REST error, carried from the store or SOQL engine up to the HTTP layer."""


class SFError(Exception):
    """An error Salesforce would answer with: HTTP status, errorCode, message, optional DML fields.

    REST renders it as ``[{"message", "errorCode"}]`` (plus ``"fields"`` when ``fields`` is not None);
    sObject Collections render it as ``{"statusCode", "message", "fields"}``.
    """

    def __init__(self, status, error_code, message, fields=None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def as_rest(self):
        body = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            body["fields"] = list(self.fields)
        return body

    def as_collection_error(self):
        return {"statusCode": self.error_code, "message": self.message, "fields": list(self.fields or [])}


class OAuthError(Exception):
    """A token-endpoint failure: ``{"error", "error_description"}`` with HTTP 400 (or 401)."""

    def __init__(self, error, description, status=400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def as_body(self):
        return {"error": self.error, "error_description": self.description}

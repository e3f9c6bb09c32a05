"""Salesforce record Ids: 15/18-character forms, key prefixes, deterministic generation."""
import string

_SUFFIX_CHARS = string.ascii_uppercase + "012345"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

# Key prefixes are case-sensitive, exactly as Salesforce's.
PREFIXES = {
    "Organization": "00D",
    "User": "005",
    "Profile": "00e",
    "UserRole": "00E",
    "UserLicense": "100",
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
    "PermissionSetLicense": "0PL",
    "PermissionSetLicenseAssign": "2LA",
    "PermissionSetGroup": "0PG",
    "ObjectPermissions": "110",
    "FieldPermissions": "01k",
    "LoginHistory": "0Ya",
    "ApexClass": "01p",
    "ApexTrigger": "01q",
    "ValidationRule": "03d",
    "Flow": "301",
    "FlowDefinition": "300",
    "CustomField": "00N",
    "CustomObject": "01I",
    "ConnectedApplication": "0H4",
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Case": "500",
}


def checksum_suffix(id15):
    """The 3-character case-safe suffix that turns a 15-character Id into 18."""
    out = []
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        out.append(_SUFFIX_CHARS[bits])
    return "".join(out)


def to18(value):
    """18-character form of a 15- or 18-character Id; anything else returned unchanged."""
    if isinstance(value, str) and len(value) == 15 and value.isalnum():
        return value + checksum_suffix(value)
    if isinstance(value, str) and len(value) == 18 and value.isalnum():
        return value[:15] + checksum_suffix(value[:15])
    return value


def is_id(value):
    return isinstance(value, str) and len(value) in (15, 18) and value.isalnum() and (
        len(value) == 15 or value[15:] == checksum_suffix(value[:15]))


def same_id(a, b):
    return a is not None and b is not None and to18(a) == to18(b)


class IdFactory:
    """Deterministic Id source: prefix + 2-char pod + 10-char base62 counter, then the suffix."""

    def __init__(self, pod="5g"):
        self.pod = pod
        self.counters = {}

    def new(self, sobject):
        return self.new_with_prefix(PREFIXES[sobject])

    def new_with_prefix(self, prefix):
        """Next Id for a key prefix not in PREFIXES (custom objects and custom settings)."""
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        digits = ""
        while n:
            n, r = divmod(n, 62)
            digits = _BASE62[r] + digits
        id15 = prefix + self.pod + digits.rjust(10, "0")
        return id15 + checksum_suffix(id15)

"""Object and field definitions: the contract between the store, the SOQL engine and the REST layer.

Field types are Salesforce's describe types: id, reference, string, textarea, boolean, int, double,
currency, percent, date, datetime, picklist, email, phone, url, base64, anyType (Tooling Metadata).
Values held by the store are Python natives: str, bool, int, float, datetime.datetime (UTC, tz-aware),
datetime.date, dict (Tooling Metadata) or None. The REST layer and the SOQL engine render them.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional


@dataclass
class FieldDef:
    name: str                                 # canonical case, e.g. "ProfileId"
    type: str = "string"
    reference_to: List[str] = field(default_factory=list)   # for type "reference": target objects
    relationship_name: Optional[str] = None   # e.g. "Profile" for ProfileId
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    filterable: bool = True
    # Tooling Metadata / FullName: Salesforce refuses them in a query that returns more than one row.
    single_row_only: bool = False
    label: Optional[str] = None
    picklist_values: tuple = ()               # a picklist's values, in describe order (the first is not a default)


@dataclass
class ChildRelationship:
    name: str            # e.g. "PermissionSetAssignments"
    child_object: str    # e.g. "PermissionSetAssignment"
    field: str           # the child's lookup field, e.g. "AssigneeId"


@dataclass
class ObjectDef:
    name: str                                   # canonical case, e.g. "PermissionSetAssignment"
    fields: Dict[str, FieldDef]                 # keyed by lower-case field name
    child_relationships: Dict[str, ChildRelationship] = field(default_factory=dict)  # lower-case key
    tooling: bool = False                       # served by /tooling/ (some objects are served by both)
    standard: bool = True                       # served by /sobjects/ and /query
    setup: bool = False                         # setup object: cannot be mixed with data objects in one DML
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    custom_setting: bool = False
    label: Optional[str] = None

    def field(self, name):
        """FieldDef by case-insensitive name, or None."""
        return self.fields.get(name.lower())

    def relationship(self, name):
        """The reference FieldDef whose relationship_name matches ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for fdef in self.fields.values():
            if fdef.relationship_name and fdef.relationship_name.lower() == lname:
                return fdef
        return None

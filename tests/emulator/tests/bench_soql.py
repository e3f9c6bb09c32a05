"""Timings of the emulator's SOQL engine over a large in-memory org (prints figures, asserts nothing).

Run: cd /work/main && PYTHONPATH=tests/emulator python tests/emulator/tests/bench_soql.py [users]
"""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sfemu.ids import IdFactory  # noqa: E402
from sfemu.soql import execute  # noqa: E402
from sfemu.soql.parser import parse  # noqa: E402
from test_soql import FakeSource, build_schema  # noqa: E402

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 12, tzinfo=UTC)


class IndexedSource(FakeSource):
    """FakeSource with an Id index, as the store keeps one."""

    def __init__(self, schema, rows):
        super().__init__(schema, rows)
        self.index = {name: {row["Id"]: row for row in table} for name, table in rows.items()}

    def rows(self, name):
        return self.data.get(name, [])

    def get(self, name, id18):
        return self.index.get(name, {}).get(id18)


def build(users):
    new = IdFactory().new
    licenses = [{"Id": new("UserLicense"), "Name": name, "MasterLabel": name, "TotalLicenses": users,
                 "UsedLicenses": 0} for name in ("Salesforce", "Salesforce Integration", "Chatter Free")]
    profiles = [{"Id": new("Profile"), "Name": f"Profile {i}", "UserLicenseId": licenses[i % 3]["Id"]}
                for i in range(30)]
    perm_sets = [{"Id": new("PermissionSet"), "Name": f"PS_{i}", "Label": f"PS {i}", "IsOwnedByProfile": False,
                  "LicenseId": licenses[i % 3]["Id"]} for i in range(50)]
    people, assignments, logins = [], [], []
    for i in range(users):
        uid = new("User")
        people.append({
            "Id": uid, "Username": f"user{i}@example.com", "Name": f"User {i}", "FirstName": f"F{i % 97}",
            "LastName": f"L{i}", "IsActive": i % 5 != 0, "ProfileId": profiles[i % 30]["Id"],
            "ManagerId": people[i // 10]["Id"] if i >= 10 else None,
            "CreatedDate": NOW - datetime.timedelta(days=i % 900), "LastLoginDate":
                None if i % 7 == 0 else NOW - datetime.timedelta(hours=i % 2000),
            "StartDay__c": None, "Interests__c": None, "UserType": "Standard", "Description": None,
            "Score__c": float(i % 13)})
        for k in range(2):
            assignments.append({"Id": new("PermissionSetAssignment"), "AssigneeId": uid,
                                "PermissionSetId": perm_sets[(i + k * 7) % 50]["Id"]})
        logins.append({"Id": new("LoginHistory"), "UserId": uid, "LoginTime": NOW - datetime.timedelta(hours=i),
                       "Status": "Success", "Application": "API"})
    rows = {"UserLicense": licenses, "Profile": profiles, "PermissionSet": perm_sets, "User": people,
            "PermissionSetAssignment": assignments, "LoginHistory": logins}
    return IndexedSource(build_schema(), rows)


QUERIES = {
    "relationship path + WHERE": "SELECT Id, Username, Profile.Name, Profile.UserLicense.Name FROM User "
                                 "WHERE IsActive = true AND Profile.UserLicense.Name = 'Salesforce'",
    "LIKE + ORDER BY + LIMIT": "SELECT Id, Username, Manager.Username FROM User WHERE Username LIKE 'user1%' "
                               "ORDER BY LastLoginDate DESC NULLS LAST, Username LIMIT 200",
    "date literal": "SELECT Id FROM User WHERE LastLoginDate < LAST_N_DAYS:30 OR LastLoginDate = null",
    "child subquery": "SELECT Id, Username, (SELECT PermissionSet.Name FROM PermissionSetAssignments) FROM User "
                      "WHERE IsActive = true",
    "semi-join": "SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment "
                 "WHERE PermissionSet.Name = 'PS_3')",
    "GROUP BY relationship": "SELECT Profile.UserLicense.Name, COUNT(Id) FROM User GROUP BY "
                             "Profile.UserLicense.Name",
    "COUNT()": "SELECT COUNT() FROM User WHERE IsActive = true",
}


def timed(func, repeat=5):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main():
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    source = build(users)
    soql = QUERIES["relationship path + WHERE"]
    parse.cache_clear()
    cold, _ = timed(lambda: parse(soql), repeat=1)
    warm, _ = timed(lambda: parse(soql))
    print(f"parse: first {cold * 1000:.2f} ms, cached {warm * 1e6:.1f} us")
    print(f"{users} users, {2 * users} assignments (first run, best of 5):")
    print(f"  {'query':28s} {'first':>8s}    {'best':>8s}")
    for label, text in QUERIES.items():
        first, _ = timed(lambda text=text: execute(text, source, now=NOW), repeat=1)
        best, result = timed(lambda text=text: execute(text, source, now=NOW))
        print(f"  {label:28s} {first * 1000:8.1f} ms {best * 1000:8.1f} ms  totalSize={result.total_size}")


if __name__ == "__main__":
    main()

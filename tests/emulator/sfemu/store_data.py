"""Plausible business records (accounts, contacts, opportunities, cases) for an estate's `records:`."""
import datetime

_COMPANY_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
                  "Cyberdyne", "Tyrell", "Wonka", "Gringotts", "Oceanic", "Massive", "Pied Piper", "Aperture")
_COMPANY_SUFFIXES = ("Corp", "Inc", "Ltd", "Group", "Holdings", "Labs", "Partners", "Systems")
_INDUSTRIES = ("Technology", "Manufacturing", "Finance", "Healthcare", "Retail", "Energy", "Education", None)
_CITIES = (("Paris", "France"), ("Lyon", "France"), ("Berlin", "Germany"), ("Austin", "United States"),
           ("Toronto", "Canada"), ("London", "United Kingdom"), ("Madrid", "Spain"))
_FIRST = ("Alice", "Bruno", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jules", "Karim", "Lea")
_LAST = ("Martin", "Bernard", "Dubois", "Smith", "Garcia", "Muller", "Rossi", "Nguyen", "Kowalski", "Silva")
_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review",
           "Closed Won", "Closed Lost")
_PRODUCTS = ("Renewal", "Expansion", "New Business", "Services", "Upgrade")
_CASE_SUBJECTS = ("Cannot log in", "Invoice question", "Sync failed overnight", "Feature request",
                  "Data export", "Integration error 401")


def generate_records(org, counts, rng, now, insert):
    """Insert ``counts`` records per data object through ``insert(object, fields, trusted, what)``."""
    accounts, contacts = [], []
    for i in range(int(counts.get("Account", 0))):
        city, country = rng.choice(_CITIES)
        name = "%s %s %d" % (rng.choice(_COMPANY_WORDS), rng.choice(_COMPANY_SUFFIXES), i + 1)
        accounts.append(insert("Account", {
            "Name": name, "Industry": rng.choice(_INDUSTRIES), "Type": rng.choice(("Customer", "Prospect", "Partner")),
            "BillingCity": city, "BillingCountry": country, "NumberOfEmployees": rng.randrange(5, 20000),
            "AnnualRevenue": float(rng.randrange(1, 500) * 100000),
            "Website": "https://www.%s.example" % name.split()[0].lower(),
        }, None, "Account %d" % (i + 1)))
    for i in range(int(counts.get("Contact", 0))):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        account = accounts[i % len(accounts)] if accounts else None
        contacts.append(insert("Contact", {
            "FirstName": first, "LastName": last, "AccountId": account["Id"] if account else None,
            "Email": "%s.%s%d@example.com" % (first.lower(), last.lower(), i + 1), "Title": rng.choice(
                ("CTO", "Buyer", "Developer", "Office Manager", None)),
        }, None, "Contact %d" % (i + 1)))
    today = now.date()
    for i in range(int(counts.get("Opportunity", 0))):
        account = accounts[i % len(accounts)] if accounts else None
        stage = rng.choice(_STAGES)
        close = today + datetime.timedelta(days=rng.randrange(-120, 180))
        insert("Opportunity", {
            "Name": "%s - %s" % (account["Name"] if account else "Deal %d" % (i + 1), rng.choice(_PRODUCTS)),
            "AccountId": account["Id"] if account else None, "StageName": stage, "CloseDate": close.isoformat(),
            "Amount": float(rng.randrange(5, 400) * 1000), "Probability": float(rng.choice((10, 20, 50, 75, 90))),
        }, None, "Opportunity %d" % (i + 1))
    for i in range(int(counts.get("Case", 0))):
        contact = contacts[i % len(contacts)] if contacts else None
        insert("Case", {
            "Subject": rng.choice(_CASE_SUBJECTS), "Status": rng.choice(("New", "Working", "Escalated", "Closed")),
            "Priority": rng.choice(("Low", "Medium", "High")), "Origin": rng.choice(("Web", "Email", "Phone")),
            "ContactId": contact["Id"] if contact else None, "AccountId": contact["AccountId"] if contact else None,
        }, None, "Case %d" % (i + 1))

"""The demo's people: everyone logs in with the same password, printed by ``flask demo load``."""

from __future__ import annotations

from normhub.demo.script import Person

# Printed by `flask demo load`; demo accounts are for trying the app out, never production.
DEMO_PASSWORD = "demo-password-123"  # noqa: S105

PEOPLE = [
    Person("mira", "Mira Okafor", "Runs the Saturday garden group. Keeps the key rota."),
    Person(
        "tomasz",
        "Tomasz Wójcik",
        "Steward. Repairs bikes on Wednesdays, reads minutes on Thursdays.",
    ),
    Person("priya", "Priya Raman", "Tenant rep for Block C. Likes a good spreadsheet."),
    Person(
        "jonas", "Jonas Lindqvist", "Volunteer at the repair café. Asks awkward questions, kindly."
    ),
    Person("aisha", "Aisha Bello", "Coordinates the community room bookings."),
    Person(
        "felix", "Felix Marchetti", "Repair café regular. Soldering irons are his love language."
    ),
    Person("hannah", "Hannah Cho", "Reads everything on the bus."),
    Person("samuel", "Samuel Otieno", "Works shifts; skims the forum between them."),
    Person("grace", "Grace Adeyemi", "Block A tenant, new to the committee."),
    Person("noor", "Noor Haddad", "New at the repair café. Working through its norms in order."),
]

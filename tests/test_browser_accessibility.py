"""Accessibility in real Chromium: axe-core over the key pages, and the keyboard alone.

axe-core (bundled by the ``axe-playwright-python`` package) runs on every key page as
each kind of viewer sees it, at a desktop width and at a phone's 390 px, and must find
nothing serious or critical. A new page to cover is one line in ``KEY_PAGES``.

The keyboard test tabs through the norm page, the notifications page and a check's
record with every disclosure open, and asserts that Tab reaches each link, button and
field on the page, and that each one, once focused, shows a ring that stands out from a
white page (WCAG's 3:1 for non-text contrast). The last test looks at a phone's layout:
search results before the facets, the wide tables as one card per row.
"""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe

from tests.accessibility_world import World, seed
from tests.browser_helpers import log_in, served_app

WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# axe's two worst impacts: a barrier rather than a nuisance.
BARRIERS = {"serious", "critical"}

# (who looks, which page): a path, with {places} filled from the world's addresses.
KEY_PAGES = [
    ("visitor", "/"),
    ("visitor", "{community}"),
    ("visitor", "{norm}"),
    ("visitor", "{community}/start"),
    ("visitor", "/search?q=figures"),
    ("visitor", "/login"),
    ("visitor", "/register"),
    ("visitor", "{community}/record"),
    ("visitor", "{member_page}"),
    ("member", "/"),
    ("member", "{community}"),
    ("member", "{norm}"),
    ("member", "{check_form}"),
    ("member", "{check}"),
    ("member", "/exposure/about-me"),
    ("member", "/queue"),
    ("member", "{community}/start"),
    ("member", "/notifications"),
    ("member", "/settings"),
    ("member", "/settings/notifications"),
    ("member", "/settings/account"),
    ("member", "/settings/digest"),
    ("member", "/settings/digest/preview"),
    ("member", "/settings/sessions"),
    ("member", "/search?q=figures"),
    ("member", "{community}/record"),
    ("member", "{member_page}"),
    ("steward", "{norm}"),
    ("steward", "{check}"),
    ("steward", "{coverage}"),
    ("steward", "{community}/settings"),
    ("steward", "{community}/invites"),
    ("steward", "{community}/reminders"),
    ("steward", "{norm}/versions"),
    ("steward", "/settings/tokens"),
]


app_overrides = served_app()


def places(world: World) -> dict[str, str]:
    community = f"/c/{world.community.slug}"
    return {
        "community": community,
        "norm": world.norm_path,
        "coverage": f"{world.norm_path}/coverage",
        "member_page": f"/members/{world.steward.handle}",  # an author, who reminded
        "check": f"/exposure/checks/{world.check_id}",
        "check_form": f"/exposure/check?community={world.community.slug}"
        f"&norm={world.norm.slug}&member={world.member.id}",
    }


AXE_CORE = Axe().axe_script  # the axe-core the package bundles


def barriers_on(page, where: str) -> list[str]:
    """axe's serious and critical findings on the page as it stands, one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):  # once per page load
        page.evaluate(AXE_CORE)
    results = page.evaluate("axe.run({resultTypes: ['violations']})")
    return [
        f"{where}: {v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes']]}: {v['help']}"
        for v in results["violations"]
        if v["impact"] in BARRIERS
    ]


# A landmark in Chromium's accessibility tree, with its name if it has one.
LANDMARK = re.compile(
    r'^\s*- (banner|navigation|search|main|complementary|contentinfo|region|form)(?: "(.*)")?:?$'
)


def landmarks(page) -> list[tuple[str, str]]:
    """(role, name) of each landmark, as a screen reader lists them."""
    lines = page.locator("body").aria_snapshot().splitlines()
    return [match.groups(default="") for match in map(LANDMARK.match, lines) if match]


def twin_landmarks(page, where: str) -> list[str]:
    """Landmarks a screen reader's list could not tell apart: same role, same name.
    (axe leaves two unnamed search landmarks alone; a listener cannot pick one.)"""
    found = landmarks(page)
    return [
        f"{where}: two {role} landmarks named {name!r}"
        for role, name in set(found)
        if found.count((role, name)) > 1
    ]


def test_key_pages_have_no_serious_accessibility_violations(live_server, browser, session, factory):
    world = seed(session, factory)
    people = {"visitor": None, "member": world.member, "steward": world.steward}
    addresses = places(world)
    found: list[str] = []
    for who, person in people.items():
        context = browser.new_context()
        page = context.new_page()
        if person is not None:
            log_in(page, live_server, person)
        for path in [path.format(**addresses) for viewer, path in KEY_PAGES if viewer == who]:
            page.set_viewport_size(WIDTHS["desktop"])
            response = page.goto(f"{live_server}{path}")
            assert response.status == 200, path
            found += twin_landmarks(page, f"{who} {path}")
            for width, viewport in WIDTHS.items():  # the same page, laid out at each width
                page.set_viewport_size(viewport)
                found += barriers_on(page, f"{who} {width} {path}")
        context.close()
    assert found == [], "\n".join(found)


# What a keyboard user must be able to reach: every link, button and field that shows.
MARK_INTERACTIVE = """() => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
    + "[tabindex]:not([tabindex='-1'])";
  return [...document.querySelectorAll(selector)]
    .filter((el) => !el.disabled && el.checkVisibility({visibilityProperty: true}))
    .map((el, index) => {
      el.dataset.keyboardStop = index;
      // One radio button per group takes Tab; the arrow keys move within the group.
      const group = el.type === "radio" ? `${el.form ? el.form.action : ""} ${el.name}` : "";
      return {index, group, html: el.outerHTML.slice(0, 120)};
    });
}"""

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    index: el.dataset.keyboardStop === undefined ? null : Number(el.dataset.keyboardStop),
    html: el.outerHTML.slice(0, 120),
    outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
  };
}"""


def luminance(rgb: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", rgb)[:3])
    linear = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(rgb: str) -> float:
    return 1.05 / (luminance(rgb) + 0.05)


def tab_through(page) -> tuple[list[dict], list[dict]]:
    """Press Tab from the top of the page until focus leaves it or comes round again.
    Returns the interactive elements and the stops Tab made, in order."""
    targets = page.evaluate(MARK_INTERACTIVE)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stops: list[dict] = []
    for _ in range(len(targets) + 5):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None or (stops and stop["index"] == stops[0]["index"]):
            break
        stops.append(stop)
    return targets, stops


def keyboard_gaps(targets: list[dict], stops: list[dict], where: str) -> list[str]:
    """What Tab did not reach, and what it reached without a ring that shows on white."""
    reached = {stop["index"] for stop in stops}
    reached_groups = {t["group"] for t in targets if t["index"] in reached and t["group"]}
    gaps = [
        f"{where}: Tab never reaches {t['html']}"
        for t in targets
        if t["index"] not in reached and not (t["group"] and t["group"] in reached_groups)
    ]
    for stop in stops:
        if stop["outline"] > 0:
            if contrast_with_white(stop["outlineColor"]) < 3:
                gaps.append(f"{where}: faint ring ({stop['outlineColor']}) on {stop['html']}")
        elif stop["boxShadow"] == "none":
            gaps.append(f"{where}: no focus ring on {stop['html']}")
    return gaps


# (who, page, width): the pages with the most actions, walked with the keyboard alone.
KEYBOARD_WALKS = [
    ("member", "{norm}", "desktop"),
    ("steward", "{norm}", "desktop"),
    ("member", "/notifications", "desktop"),
    ("member", "{check}", "phone"),  # the table of answers scrolls sideways there
]
ANSWERS_TABLE = ".check-result .table-wrap"


def test_the_keyboard_alone_reaches_every_action_with_a_visible_ring(
    live_server, browser, session, factory
):
    world = seed(session, factory)
    people = {"member": world.member, "steward": world.steward}
    addresses = places(world)
    gaps: list[str] = []
    walked: dict[str, list[dict]] = {}
    for who, person in people.items():
        context = browser.new_context()
        page = context.new_page()
        log_in(page, live_server, person)
        for path, width in [
            (path, width) for viewer, path, width in KEYBOARD_WALKS if viewer == who
        ]:
            page.set_viewport_size(WIDTHS[width])
            page.goto(f"{live_server}{path.format(**addresses)}")
            targets, stops = tab_through(page)
            gaps += keyboard_gaps(targets, stops, f"{who} {width} {path}")
            walked[f"{who} {path}"] = stops
            if path == "{check}":
                table = page.locator(ANSWERS_TABLE)
                assert table.evaluate("el => el.scrollWidth > el.clientWidth")  # it scrolls
        context.close()
    assert gaps == [], "\n".join(gaps)
    # The walks went through the pages' actions, not just the header.
    assert any("Save my response" in stop["html"] for stop in walked["member {norm}"])
    assert any("Post reply" in stop["html"] for stop in walked["member {norm}"])
    assert any("Mark all read" in stop["html"] for stop in walked["member /notifications"])
    # The sideways-scrolling table of answers takes focus, so arrow keys can scroll it
    # (this Chromium makes a scroller focusable on its own; axe asks for the tabindex
    # other browsers need, in the test above).
    assert any('class="table-wrap"' in stop["html"] for stop in walked["member {check}"])


CARDS = "table.cards-on-phone"


def layout(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        """el => ({top: el.getBoundingClientRect().top, left: el.getBoundingClientRect().left,
                  display: getComputedStyle(el).display})"""
    )


def test_on_a_phone_results_come_first_and_wide_tables_become_cards(
    live_server, browser, session, factory
):
    world = seed(session, factory)
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server, world.steward)
    addresses = places(world)
    wide_tables = [
        "/settings/tokens",
        "/settings/sessions",
        addresses["coverage"],
        f"{addresses['community']}/settings",
    ]

    page.set_viewport_size(WIDTHS["desktop"])
    page.goto(f"{live_server}/search?q=figures")
    results, facets = layout(page, ".search-results"), layout(page, ".search-facets")
    assert facets["left"] > results["left"]  # beside the results on a wide screen
    for path in wide_tables:
        page.goto(f"{live_server}{path}")
        assert layout(page, CARDS + " tr")["display"] == "table-row", path

    page.set_viewport_size(WIDTHS["phone"])
    page.goto(f"{live_server}/search?q=figures")
    results, facets = layout(page, ".search-results"), layout(page, ".search-facets")
    assert results["top"] < facets["top"]  # the results first, the ways to narrow them after
    for path in wide_tables:
        page.goto(f"{live_server}{path}")
        assert layout(page, CARDS + " tbody tr")["display"] == "block", path
        # The heading row is kept for screen readers but takes no room.
        assert page.locator(CARDS + " thead").evaluate("el => el.offsetHeight <= 1"), path
        # Each cell shows its column's name, since the heading row is out of sight...
        cell = page.locator(CARDS + " td[data-label]").first
        label = cell.get_attribute("data-label")
        assert label in cell.evaluate("el => getComputedStyle(el, '::before').content"), path
        # ...for the eye only: it is still a table to a screen reader, each cell named
        # by its contents, the column heading announced as before.
        tree = page.locator(CARDS).aria_snapshot()
        assert f'- columnheader "{label}"' in tree, path
        assert f'- cell "{" ".join(cell.inner_text().split())}"' in tree, path
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]["width"]
    context.close()

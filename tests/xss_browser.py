"""Watching a Chromium page for hostile input that ran or slipped into the markup.

``HostilePage`` wraps one Playwright page: the CSP watcher of
tests/test_browser_csp.py (violations and console complaints), every dialog
(``alert`` and friends: a payload that ran), every request that leaves the site
(an injected image, style or script fetching from elsewhere; aborted and
recorded), and, after each load, a look through the DOM for what no escaped text
can produce: an element carrying a payload's marker, an ``on…`` attribute, a
script or style the app did not write, a ``javascript:``/``vbscript:``/``data:``
address, an image from another site; a direction control left open before the
page's own words; the output of a template payload that was run.
"""

from __future__ import annotations

from tests.test_browser_csp import Watcher
from tests.xss_corpus import EVALUATED_TEMPLATES

# Evaluated in the page: a list of what is wrong, in words (empty when clean).
FIND_INJECTED = r"""
() => {
  const found = [];
  const origin = location.origin;
  const say = (el, what) => found.push(`${what}: ${el.outerHTML.slice(0, 160)}`);
  const safeImage = /^data:image\/(png|gif|jpeg|webp);/i;
  const urlAttributes = ["href", "src", "action", "formaction", "data", "poster", "background",
                         "xlink:href", "cite", "ping", "manifest", "srcset"];
  const resolve = (value) => {
    try { return new URL(value.trim(), document.baseURI); } catch (e) { return null; }
  };
  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName;
    if (el.hasAttribute("data-xss-injected") || /^xss/i.test(el.id)) say(el, "marked element");
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) say(el, `event handler ${name}`);
      if (name === "srcdoc") say(el, "srcdoc");
      if (!urlAttributes.includes(name)) continue;
      // srcset holds several addresses, each followed by its size.
      const values = name === "srcset" ? attr.value.split(",").map(v => v.trim().split(/\s/)[0])
                                        : [attr.value];
      const imageInText = tag === "img" && name === "src" && safeImage.test(attr.value);
      for (const value of values) {
        const url = resolve(value);
        const scheme = url ? url.protocol : "";
        if (/^(javascript|vbscript):$/.test(scheme)) say(el, `${scheme} address in ${name}`);
        if (scheme === "data:" && !imageInText) say(el, `data: address in ${name}`);
      }
    }
    if (tag === "script") {
      const src = el.getAttribute("src");
      const url = src && resolve(src);
      if (!url || url.origin !== origin || !url.pathname.startsWith("/static/")) {
        say(el, "script the app did not write");
      }
    }
    if (["iframe", "frame", "object", "embed", "base", "applet", "portal", "style", "marquee",
         "math", "video", "audio", "source", "animate", "set", "foreignobject"].includes(tag)) {
      say(el, `<${tag}> element`);
    }
    if (tag === "meta" && !el.hasAttribute("charset") && el.getAttribute("name") !== "viewport") {
      say(el, "meta element");
    }
    // The app's links: its stylesheet, and a community's feed.
    const ownLink = el.rel === "stylesheet" ? el.href.startsWith(origin + "/static/")
                                            : el.rel === "alternate" && el.href.startsWith(origin);
    if (tag === "link" && !ownLink) say(el, "link element");
    if (tag === "img" && !/^data:/i.test(el.getAttribute("src") || "")) {
      const url = resolve(el.getAttribute("src") || "");
      if (!url || url.origin !== origin) say(el, "image from another site");
    }
    if (tag === "form" && el.hasAttribute("action")) {
      const url = resolve(el.getAttribute("action"));
      if (!url || url.origin !== origin) say(el, "form sent elsewhere");
    }
  }
  return found;
}
"""

# Evaluated in the page: text an invisible direction control would turn around although
# whoever wrote the control did not write it. An embedding, override or isolate left open
# runs to the end of its paragraph: the block or isolating element around it, a <br>, a
# kept line break. Every text a template prints closes what it opens (the app closes it:
# normhub.text.with_direction_closed), so a text node may leave one open only inside
# rendered Markdown, where the writer's own paragraph ends it: nothing may follow there.
FIND_BIDI_SPILLS = r"""
() => {
  const spills = [];
  const markdown = ".essay, .explanation, .comment-body, .member-bio";
  const leftOpen = (text) => {
    let embeddings = 0, isolates = 0;
    for (const ch of text) {
      if ("\u202a\u202b\u202d\u202e".includes(ch)) embeddings++;
      else if (ch === "\u202c" && embeddings > 0) embeddings--;
      else if ("\u2066\u2067\u2068".includes(ch)) isolates++;
      else if (ch === "\u2069" && isolates > 0) isolates--;
    }
    return embeddings + isolates > 0;
  };
  const bounds = (el) => {
    const style = getComputedStyle(el);
    return !["inline", "contents"].includes(style.display)
      || ["isolate", "isolate-override", "plaintext"].includes(style.unicodeBidi);
  };
  const keepsLines = (el) => ["pre", "pre-wrap", "pre-line", "break-spaces"].includes(
    getComputedStyle(el).whiteSpace);
  const textAfter = (node, box, lines) => {
    const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    walk.currentNode = node;
    let after = "";
    for (let next = walk.nextNode(); next; next = walk.nextNode()) {
      if (next.nodeType === Node.ELEMENT_NODE) {
        if (next.localName === "br") break;
        continue;
      }
      after += next.data;
      if (lines && after.includes("\n")) return after.slice(0, after.indexOf("\n"));
    }
    return after;
  };
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = texts.nextNode(); node; node = texts.nextNode()) {
    const parent = node.parentElement;
    // A text area shows the text as stored, to be edited: nothing else is laid out with it.
    if (parent.localName === "textarea") continue;
    const lines = keepsLines(parent);
    if (!leftOpen(lines ? node.data.slice(node.data.lastIndexOf("\n") + 1) : node.data)) continue;
    const where = `${parent.localName}.${parent.className}`;
    if (!parent.closest(markdown)) {
      spills.push(`${where}: ${node.data.slice(0, 80)}`);
      continue;
    }
    let box = parent;
    while (box.parentElement && !bounds(box)) box = box.parentElement;
    const after = textAfter(node, box, lines);
    if (after.trim()) spills.push(`${where}: …${after.trim().slice(0, 80)}`);
  }
  return spills;
}
"""

SETTLE = "() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))"
MARKUP = "() => document.documentElement.outerHTML"
TEXT = "() => document.body ? document.body.innerText : document.documentElement.textContent"


class HostilePage(Watcher):
    """A page watched for hostile input that ran, was injected, or broke the CSP."""

    def __init__(self, page, site: str):
        super().__init__(page)
        self.site = site
        self.dialogs: list[str] = []
        self.left_the_site: list[str] = []
        page.on("dialog", self._dialog)
        page.context.route(lambda url: not url.startswith(site), self._elsewhere)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _elsewhere(self, route) -> None:
        # Nothing on a page of this site has reason to fetch anything from elsewhere.
        self.left_the_site.append(route.request.url)
        route.abort()

    def open(self, path: str, status: int = 200) -> HostilePage:
        """Load ``path`` of the site, expecting ``status``, and check the page."""
        url = path if path.startswith("http") else f"{self.site}{path}"
        response = self.page.goto(url)
        assert response.status == status, (url, response.status)
        self.page.wait_for_load_state("load")
        if status != 200:
            # The browser notes the document's own error status; nothing else may complain.
            self.console = [c for c in self.console if f"status of {status}" not in c]
        self.assert_clean(url)
        self.assert_inert(url)
        return self

    def show(self, html: str, where: str) -> HostilePage:
        """Render ``html`` as a mail client would, outside the site: no CSP, scripts on."""
        self.page.set_content(html, wait_until="load")
        self.assert_inert(where)
        return self

    def assert_inert(self, where: str) -> None:
        # Let what an injected element would set going after load (autofocus) run first.
        self.page.evaluate(SETTLE)
        assert self.dialogs == [], (where, self.dialogs)
        assert self.left_the_site == [], (where, self.left_the_site)
        found = self.page.evaluate(FIND_INJECTED)
        assert found == [], (where, found)
        spills = self.page.evaluate(FIND_BIDI_SPILLS)
        assert spills == [], (where, spills)
        text = self.text()
        assert [t for t in EVALUATED_TEMPLATES if t in text] == [], where

    def markup(self) -> str:
        return self.page.evaluate(MARKUP)

    def text(self) -> str:
        return self.page.evaluate(TEXT)

    def assert_shows(self, markers: set[str], where: str) -> None:
        """Every one of ``markers`` is on the page: the payloads were shown, not lost."""
        markup = self.markup()
        missing = sorted(m for m in markers if m not in markup)
        assert missing == [], (where, missing)

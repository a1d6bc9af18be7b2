"""Images from other sites are links the reader may click, never loaded for them."""

import re

from normhub.markdown import render_markdown

TRACKER = "https://tracker.example/pixel.gif?reader=1"
ESSAY = f"""\
Before the pixel ![a kitten]({TRACKER}) after it.

Protocol-relative: ![](//tracker.example/p.png) and upper case ![x](HTTPS://Tracker.example/a.png)

Ours: ![diagram](/static/diagram.png) and inline ![dot](data:image/png;base64,iVBORw0KGgo=)
"""


def _image_sources(html: str) -> list[str]:
    return re.findall(r"<img[^>]*\bsrc=\"([^\"]*)\"", html)


def test_remote_images_become_links_that_name_the_site():
    html = str(render_markdown(ESSAY))
    assert _image_sources(html) == ["/static/diagram.png", "data:image/png;base64,iVBORw0KGgo="]
    assert (
        '<a class="remote-image" href="https://tracker.example/pixel.gif?reader=1"'
        ' rel="nofollow noopener noreferrer"'
    ) in html
    assert ">Image from tracker.example: a kitten</a>" in html
    assert ">Image from tracker.example</a>" in html  # no alt text: just the site
    assert "tracker.example/a.png" in html.lower()  # upper-case schemes are remote too


def test_hostile_alt_text_and_addresses_stay_text():
    html = str(render_markdown('![<script>alert(1)</script>"](https://x.example/a.png"onerror=1)'))
    assert "<script>" not in html
    assert not re.search(r"<img", html)
    assert 'onerror="' not in html


def test_the_norm_page_and_comments_load_no_remote_image(client, factory, login_as):
    community = factory.community()
    author = factory.member(community)
    norm = factory.norm(community, author=author, body=ESSAY)
    login_as(author)
    page = f"/c/{community.slug}/norms/{norm.slug}"
    response = client.post(f"{page}/comments", data={"body": f"See ![chart]({TRACKER})"})
    assert response.status_code in (302, 303)
    html = client.get(page).get_data(as_text=True)
    assert "tracker.example" in html  # shown as links…
    assert not [src for src in _image_sources(html) if "tracker" in src.lower()]  # …never loaded
    assert "Image from tracker.example: chart" in html

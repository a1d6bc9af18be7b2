"""The pure diff logic, without a database or HTTP."""

from types import SimpleNamespace

from markupsafe import Markup

from normhub.norms.diff import compare_assumptions, diff_versions, inline_diff


def assumption(key, position, statement, explanation=""):
    return SimpleNamespace(key=key, position=position, statement=statement, explanation=explanation)


def version(title="T", summary="S", body="B", assumptions=()):
    return SimpleNamespace(title=title, summary=summary, body=body, assumptions=list(assumptions))


def test_inline_diff_marks_changed_words_only():
    html = inline_diff("Name the source of every figure.", "Name the base of every figure.")
    assert isinstance(html, Markup)
    assert "<del>source</del>" in html
    assert "<ins>base</ins>" in html
    assert html.startswith("Name the ")
    assert "every figure." in html


def test_inline_diff_of_lines_added_and_removed():
    old = "first line\nsecond line\n"
    new = "first line\nsecond line\nthird line\n"
    assert str(inline_diff(old, new)) == "first line\nsecond line\n<ins>third line\n</ins>"
    assert str(inline_diff(new, old)) == "first line\nsecond line\n<del>third line\n</del>"


def test_inline_diff_escapes_html_in_every_part():
    html = str(inline_diff("<b>old</b>\n& same\n", "& same\n<script>alert(1)</script>\n"))
    assert "<script>" not in html and "<b>" not in html
    assert html.startswith("<del>&lt;b&gt;old&lt;/b&gt;\n</del>&amp; same\n")
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;\n</ins>" in html
    assert "&amp; same" in html


def test_neighbouring_word_changes_merge_into_one_edit():
    html = str(
        inline_diff(
            "Most readers cannot check a number's base themselves.",
            "Most readers cannot verify the base of a figure.",
        )
    )
    assert html == (
        "Most readers cannot <del>check</del><ins>verify the base of</ins> a "
        "<del>number&#39;s base themselves</del><ins>figure</ins>."
    )


def test_a_rewritten_line_is_removed_then_added_whole():
    html = str(inline_diff("| Figure | Base |\n", "## What we ask\n"))
    assert html == "<del>| Figure | Base |\n</del><ins>## What we ask\n</ins>"


def test_identical_texts_give_no_markup():
    assert str(inline_diff("same <i>", "same <i>")) == "same &lt;i&gt;"


def test_assumptions_added_removed_reworded_moved():
    old = [
        assumption(1, 1, "Alpha holds."),
        assumption(2, 2, "Beta holds.", "Because."),
        assumption(3, 3, "Gamma holds."),
        assumption(4, 4, "Delta holds."),
    ]
    new = [
        assumption(3, 1, "Gamma holds."),  # moved from 3 to 1
        assumption(2, 2, "Beta mostly holds.", "Because."),  # reworded
        assumption(4, 3, "Delta holds.", "New explanation."),  # explanation reworded
        assumption(5, 4, "Epsilon holds."),  # added
    ]  # key 1 removed
    changes = {c.key: c for c in compare_assumptions(old, new)}
    assert changes[5].kind == "added" and changes[5].new_position == 4
    assert changes[1].kind == "removed" and changes[1].old_position == 1
    assert changes[3].moved and not changes[3].reworded
    assert (changes[3].old_position, changes[3].new_position) == (3, 1)
    assert changes[2].reworded and not changes[2].moved
    assert changes[2].statement_html == "Beta <ins>mostly </ins>holds."
    assert changes[2].explanation_html is None
    assert changes[4].reworded and changes[4].statement_html is None
    assert "<ins>New explanation.</ins>" in changes[4].explanation_html
    assert [c.key for c in compare_assumptions(old, new)] == [3, 2, 4, 5, 1]


def test_removing_the_first_assumption_does_not_move_the_rest():
    old = [assumption(1, 1, "A"), assumption(2, 2, "B"), assumption(3, 3, "C")]
    new = [assumption(2, 1, "B"), assumption(3, 2, "C")]
    changes = compare_assumptions(old, new)
    assert [(c.kind, c.key) for c in changes] == [("removed", 1)]


def test_swapping_two_assumptions_reports_a_move():
    old = [assumption(1, 1, "A"), assumption(2, 2, "B")]
    new = [assumption(2, 1, "B"), assumption(1, 2, "A")]
    changes = compare_assumptions(old, new)
    assert len(changes) == 1 and changes[0].moved


def test_diff_versions_lists_only_changed_text_fields():
    old = version(title="Old title", body="Same body", assumptions=[assumption(1, 1, "A")])
    new = version(title="New title", body="Same body", assumptions=[assumption(1, 1, "A")])
    result = diff_versions(old, new)
    assert [c.label for c in result.text_changes] == ["Title"]
    assert result.assumption_changes == []
    assert result.has_changes
    assert not diff_versions(old, old).has_changes


def test_long_paragraph_is_compared_sentence_by_sentence():
    sentences = [f"Sentence number {n} says something about counting." for n in range(1500)]
    old = " ".join(sentences)
    sentences[700] = "Sentence number 700 says something about weighing."
    html = str(inline_diff(old, " ".join(sentences)))
    assert html.count("<ins>") == 1 and html.count("<del>") == 1
    assert "about <del>counting</del><ins>weighing</ins>." in html
    assert html.startswith("Sentence number 0 says")


def test_huge_block_without_sentences_is_replaced_whole():
    old = " ".join(f"w{n}" for n in range(3000))
    new = old.replace("w1500 ", "changed ")
    html = str(inline_diff(old, new))
    assert html == f"<del>{old}</del><ins>{new}</ins>"

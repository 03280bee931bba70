"""What changed between two revisions: the fields, and the 正文 paragraph by paragraph,
with the changed characters marked, so that a leader can read the clean text and still see
each round's changes on request."""

from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .exchange import BLOCK_KINDS, FIELD_LABELS


def _show(value):
    if value is None or value == []:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(value)
    return str(value)


def field_changes(old, new):
    """[(label, old, new)] for every field other than the 正文 that differs."""
    return [
        (label, _show(old.get(key)), _show(new.get(key)))
        for key, label in FIELD_LABELS.items()
        if key != "body" and old.get(key) != new.get(key)
    ]


def _inline(old, new):
    """Old and new text of one paragraph with the changed characters in <del> and <ins>."""
    parts = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(old[a1:a2]))
            continue
        if a2 > a1:
            parts.append(f"<del>{escape(old[a1:a2])}</del>")
        if b2 > b1:
            parts.append(f"<ins>{escape(new[b1:b2])}</ins>")
    return mark_safe("".join(parts))


def body_changes(old_blocks, new_blocks):
    """One row per paragraph: ("equal" | "changed" | "added" | "removed", kind label, marked-up text)."""
    old_keys = [(b["kind"], b["text"]) for b in old_blocks]
    new_keys = [(b["kind"], b["text"]) for b in new_blocks]
    rows = []
    for op, a1, a2, b1, b2 in SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [("equal", BLOCK_KINDS[k], escape(t)) for k, t in new_keys[b1:b2]]
            continue
        old_part, new_part = old_keys[a1:a2], new_keys[b1:b2]
        paired = min(len(old_part), len(new_part)) if op == "replace" else 0
        for (_, old_text), (kind, new_text) in zip(old_part[:paired], new_part[:paired]):
            rows.append(("changed", BLOCK_KINDS[kind], _inline(old_text, new_text)))
        rows += [("removed", BLOCK_KINDS[k], mark_safe(f"<del>{escape(t)}</del>")) for k, t in old_part[paired:]]
        rows += [("added", BLOCK_KINDS[k], mark_safe(f"<ins>{escape(t)}</ins>")) for k, t in new_part[paired:]]
    return rows

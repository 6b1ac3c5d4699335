"""Reasoning kept apart from the answer: ``<think>...</think>`` blocks that reasoning models
write inline (DeepSeek-R1, Qwen3, QwQ behind a server without a reasoning parser) are split
off, also while the text streams in with a tag cut across two chunks. What is inside goes to
the trace, never to the answer, the plan or memory."""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Feed streamed text in order: :meth:`feed` returns the visible text that is certain so
    far (a possible tag start at the end is held back until the next chunk)."""

    def __init__(self) -> None:
        self.inside = False
        self.pending = ""

    def feed(self, chunk: str) -> str:
        text, out = self.pending + chunk, ""
        self.pending = ""
        while text:
            tag = CLOSE if self.inside else OPEN
            at = text.find(tag)
            if at < 0:
                keep = _partial_tag(text, tag)
                if not self.inside:
                    out += text[:len(text) - keep]
                self.pending = text[len(text) - keep:] if keep else ""
                break
            if not self.inside:
                out += text[:at]
            self.inside = not self.inside
            text = text[at + len(tag):]
        return out

    def close(self) -> str:
        """The end of the reply: the held-back tail, if it was visible text after all."""
        rest, self.pending = self.pending, ""
        return "" if self.inside else rest


def _partial_tag(text: str, tag: str) -> int:
    """How many characters at the end of ``text`` could begin ``tag`` (0 if none)."""
    return next((size for size in range(min(len(tag) - 1, len(text)), 0, -1)
                 if tag.startswith(text[-size:])), 0)


def split_think(text: str) -> tuple[str, str]:
    """(visible, reasoning) of a whole reply. A reply that begins inside a block (a chat
    template that opened ``<think>`` in the prompt) has a lone ``</think>``: what comes
    before it is reasoning."""
    reasoning = []
    first_close, first_open = text.find(CLOSE), text.find(OPEN)
    if first_close >= 0 and (first_open < 0 or first_close < first_open):
        reasoning.append(text[:first_close])
        text = text[first_close + len(CLOSE):]
    visible, rest = [], text
    while rest:
        start = rest.find(OPEN)
        if start < 0:
            visible.append(rest)
            break
        visible.append(rest[:start])
        end = rest.find(CLOSE, start)
        if end < 0:  # cut off while thinking
            reasoning.append(rest[start + len(OPEN):])
            break
        reasoning.append(rest[start + len(OPEN):end])
        rest = rest[end + len(CLOSE):]
    return "".join(visible).strip(), "\n".join(r.strip() for r in reasoning if r.strip())

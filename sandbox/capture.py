"""What one cell sends back, as the host collects it from the kernel's messages.

Nothing the kernel sends is trusted: text is kept in memory only up to :data:`STDOUT_LIMIT`
characters, the rest streamed to a new file ``outputs/cell-N.txt`` (at most
:data:`OUTPUT_FILE_LIMIT` bytes); inline PNGs go to new files under ``figures/``; a figure path
the kernel reports is kept only if it is a regular file inside the workspace; a result payload
must have the shape of :class:`~climcopilot.sandbox.observation.PublishedResult`.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, BinaryIO

from pydantic import ValidationError

from climcopilot.sandbox.observation import MIME, PublishedResult
from climcopilot.sandbox.workspace import Workspace

STDOUT_LIMIT = 4000  # characters of stdout kept in an observation; the rest goes to a file
OUTPUT_FILE_LIMIT = 64 * 2**20  # bytes of one cell's output kept in its file
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def one_line(text: str, limit: int = 500) -> str:
    """The first line of ``text``, without trailing colons, at most ``limit`` characters."""
    lines = text.splitlines() or [""]
    return lines[0].rstrip(": ")[:limit]


class CellCapture:
    """The outputs of cell ``number`` as they arrive (:meth:`collect` takes each iopub
    message); ``memory_mb`` is the kernel's cap, named in a MemoryError's explanation."""

    def __init__(self, files: Workspace, number: int, memory_mb: int) -> None:
        self.files = files
        self.number = number
        self.memory_mb = memory_mb
        self.head: list[str] = []
        self.head_chars = 0
        self.spill: BinaryIO | None = None
        self.spill_bytes = 0
        self.full_output: str | None = None
        self.truncated = False
        self.spill_problem: str | None = None
        self.results: list[PublishedResult] = []
        self.figures: list[str] = []
        self.refused: list[str] = []
        self.inline = 0
        self.error: str | None = None
        self.traceback: str | None = None

    def collect(self, msg: dict[str, Any]) -> None:
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            self.text(str(content.get("text", "")))
        elif kind in ("display_data", "execute_result"):
            data = content.get("data", {})
            if MIME in data:
                self._payload(data[MIME])
            elif "image/png" in data:
                self._png(data["image/png"])
            elif "text/plain" in data:
                self.text(str(data["text/plain"]) + "\n")
        elif kind == "error":
            self._error(content)

    def text(self, text: str) -> None:
        """Keep ``text`` in memory while there is room, else stream it to the output file."""
        text = ANSI.sub("", text)
        room = STDOUT_LIMIT - self.head_chars
        if room > 0:
            self.head.append(text[:room])
            self.head_chars += min(room, len(text))
            text = text[room:]
        if text:
            self.truncated = True
            self._spill(text)

    def _spill(self, text: str) -> None:
        if self.spill is None and self.spill_problem is None:
            try:
                self.spill, path = self.files.create("outputs", f"cell-{self.number}", ".txt")
                self.full_output = str(path)
            except OSError as exc:
                self.spill_problem = f"outputs/ is not usable ({exc.strerror or exc})"
                return
            self._write("".join(self.head))
        if self.spill is not None:
            self._write(text)

    def _write(self, text: str) -> None:
        data = text.encode(errors="replace")[:OUTPUT_FILE_LIMIT - self.spill_bytes]
        if data:
            self.spill.write(data)
            self.spill_bytes += len(data)

    def _payload(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            self.error = "the cell published a result payload that is not a JSON object"
            return
        if isinstance(payload.get("error"), str):
            self.error = one_line(payload["error"])
        if "result" in payload:
            try:
                published = PublishedResult.model_validate(payload)
            except ValidationError as exc:
                self.error = f"the cell published a malformed result ({one_line(str(exc))})"
                return
            self.results.append(published)
            self._figures(published.result.get("figures", []))
        self._figures(payload.get("figures", []))

    def _figures(self, paths: Any) -> None:
        for path in paths if isinstance(paths, list) else [paths]:
            found = self.files.regular_file(path) if isinstance(path, str) else None
            if found is None:
                self.refused.append(str(path)[:200])
            elif str(found) not in self.figures:
                self.figures.append(str(found))

    def _png(self, b64: Any) -> None:
        try:
            png = base64.b64decode(str(b64), validate=False)
        except (binascii.Error, ValueError):
            return
        self.inline += 1
        try:
            handle, path = self.files.create("figures", f"cell-{self.number}-inline-"
                                                        f"{self.inline}", ".png")
        except OSError as exc:
            self.refused.append(f"inline image ({exc.strerror or exc})")
            return
        with handle:
            handle.write(png)
        self.figures.append(str(path))

    def _error(self, content: dict[str, Any]) -> None:
        name, value = str(content.get("ename", "")), str(content.get("evalue", ""))
        self.error = one_line(f"{name}: {value}")
        if name == "MemoryError":
            self.error += (f" (over the kernel's {self.memory_mb} MB memory cap: work in "
                           "chunks, or raise CLIMCOPILOT_KERNEL_MEMORY_MB)")
        lines = [str(line) for line in content.get("traceback", [])][-3:]
        self.traceback = ANSI.sub("", "\n".join(lines))[:STDOUT_LIMIT]

    def stdout(self) -> str:
        """The text kept in memory, with a note where the rest went."""
        text = "".join(self.head)
        if self.truncated:
            where = (f"full output in {self.full_output}" if self.full_output else
                     f"the full output could not be kept: {self.spill_problem}")
            if self.spill_bytes >= OUTPUT_FILE_LIMIT:
                where += f", cut at {OUTPUT_FILE_LIMIT // 2**20} MB"
            text += f"\n... [truncated; {where}]"
        if self.refused:
            text += (f"\n[figures refused (not a regular file inside the workspace): "
                     f"{', '.join(self.refused[:5])}]")
        return text

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None

"""The question spec: what a question asks, of what, under which conditions; read once by the
guard (:func:`read_question`), refined by follow-ups (:func:`refine`), used by every brain and
by the checks that hold the answer to the question."""

from climcopilot.agent.spec.followup import read_in_context as read_in_context
from climcopilot.agent.spec.followup import refine as refine
from climcopilot.agent.spec.model import Period as Period
from climcopilot.agent.spec.model import QuestionSpec as QuestionSpec
from climcopilot.agent.spec.names import term_label as term_label
from climcopilot.agent.spec.reader import read_question as read_question

__all__ = ["Period", "QuestionSpec", "read_in_context", "read_question", "refine", "term_label"]

"""The brain that an OpenAI-compatible LLM drives (see :mod:`.brain`)."""

from climcopilot.agent.brains.openai.brain import OpenAIBrain as OpenAIBrain

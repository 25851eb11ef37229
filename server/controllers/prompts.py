"""``/api/v1/prompts``: the LLM prompt templates, as the planner sends them."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, get

from scenespark.highlights.llm import PromptTemplates
from scenespark.models.vision_llm import SYSTEM_PROMPT as VISION_SYSTEM_PROMPT


class PromptController(Controller):
    path = "/api/v1/prompts"
    tags: ClassVar[list[str]] = ["highlights"]

    @get(sync_to_thread=False, summary="The LLM prompt templates (instructions are editable)")
    def prompts(self) -> PromptTemplates:
        """The highlight planner's system prompt in its three parts and its user message
        template, and the vision model's prompt. A highlight request's ``instructions`` replace
        ``planner_instructions``; the data rules and output rules always stay."""
        return PromptTemplates(vision_system=VISION_SYSTEM_PROMPT)

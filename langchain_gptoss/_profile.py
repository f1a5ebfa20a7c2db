"""What gpt-oss-120b on TIR can do, as LangChain's model profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models.model_profile import ModelProfile

# gpt-oss-120b as TIR serves it (vLLM, harmony): 131,072 tokens of context shared by
# prompt and output (max_input_tokens is that shared window, not a prompt-only
# limit), text only, one tool call per turn.
PROFILE: ModelProfile = {
    "name": "gpt-oss-120b",
    "open_weights": True,
    "max_input_tokens": 131_072,
    "max_output_tokens": 131_072,
    "text_inputs": True,
    "image_inputs": False,
    "image_url_inputs": False,
    "pdf_inputs": False,
    "audio_inputs": False,
    "video_inputs": False,
    "image_tool_message": False,
    "pdf_tool_message": False,
    "reasoning_output": True,
    "reasoning_effort_levels": ["low", "medium", "high"],
    "reasoning_effort_default": "medium",
    "text_outputs": True,
    "image_outputs": False,
    "audio_outputs": False,
    "video_outputs": False,
    "tool_calling": True,
    "tool_choice": True,
    "tool_call_streaming": True,
    "structured_output": True,
}

"""`with_structured_output` for ChatGptOss: a bound model plus a parser."""

from __future__ import annotations

import json
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.exceptions import OutputParserException
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.output_parsers.transform import BaseCumulativeTransformOutputParser
from langchain_core.outputs.generation import Generation
from langchain_core.runnables.base import RunnableMap
from langchain_core.runnables.passthrough import RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.json import parse_partial_json
from langchain_core.utils.pydantic import is_basemodel_subclass, is_pydantic_v1_subclass
from pydantic import ValidationError
from pydantic.v1 import ValidationError as ValidationErrorV1

from langchain_gptoss._request import format_tools

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel, LanguageModelInput
    from langchain_core.runnables import Runnable

Method = Literal["json_schema", "function_calling", "json_mode"]


class JsonAnswerParser(BaseCumulativeTransformOutputParser[Any]):
    """Parse a JSON answer, into `model_class` when given.

    Strict once the answer is complete, and its errors keep the raw text; lenient
    while streaming, where an incomplete object is skipped rather than raised.
    """

    model_class: Any = None

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """Return the parsed answer (None for an incomplete streamed one)."""
        text = result[0].text
        if partial:
            try:
                data = parse_partial_json(text)
                return data if data is None else self._validate(data)
            except (ValueError, ValidationError, ValidationErrorV1):
                return None
        try:
            data = json.loads(text)
        except ValueError as exc:
            msg = f"The answer is not valid JSON ({exc})."
            raise OutputParserException(msg, llm_output=text) from exc
        try:
            return self._validate(data)
        except (ValidationError, ValidationErrorV1) as exc:
            msg = f"The answer does not match {self.model_class.__name__}: {exc}"
            raise OutputParserException(msg, llm_output=text) from exc

    def parse(self, text: str) -> Any:
        """Parse a complete answer."""
        return self.parse_result([Generation(text=text)])

    @property
    def _type(self) -> str:
        return "gptoss_json_answer"

    def _validate(self, data: Any) -> Any:
        if self.model_class is None:
            return data
        if is_pydantic_v1_subclass(self.model_class):
            return self.model_class.parse_obj(data)
        return self.model_class.model_validate(data)


def structured_output(
    model: BaseChatModel,
    schema: Any,
    *,
    method: Method,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[LanguageModelInput, Any]:
    """Return `model` bound to answer in `schema`, followed by its parser."""
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    trace = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
    parser: Runnable[Any, Any]
    if method == "function_calling":
        tool = format_tools([schema], strict=strict)[0]
        name = tool["function"]["name"]
        bound = model.bind_tools(
            [schema], tool_choice=name, strict=strict, ls_structured_output_format=trace
        )
        parser = (
            PydanticToolsParser(tools=[schema], first_tool_only=True)
            if is_pydantic
            else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        )
    elif method in {"json_schema", "json_mode"}:
        if method == "json_schema":
            json_schema = convert_to_json_schema(schema, strict=strict)
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {
                    "name": json_schema.get("title", "output"),
                    "schema": json_schema,
                    **({"strict": strict} if strict is not None else {}),
                },
            }
        else:
            response_format = {"type": "json_object"}
            trace = {"kwargs": {"method": method}, "schema": schema}
        bound = model.bind(
            response_format=response_format, ls_structured_output_format=trace
        )
        parser = JsonAnswerParser(model_class=schema if is_pydantic else None)
    else:
        msg = (
            f"Unknown method {method!r}: use 'json_schema', 'function_calling' or "
            "'json_mode'."
        )
        raise ValueError(msg)
    if not include_raw:
        return bound | parser
    parsed = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    unparsed = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=bound) | parsed.with_fallbacks(
        [unparsed], exception_key="parsing_error"
    )

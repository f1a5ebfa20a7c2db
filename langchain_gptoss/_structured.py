"""`with_structured_output` for ChatGptOss: a bound model plus a parser."""

from __future__ import annotations

import json
from functools import reduce
from operator import add
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    BaseMessageChunk,
)
from langchain_core.output_parsers.transform import BaseCumulativeTransformOutputParser
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
)
from langchain_core.runnables.base import RunnableLambda, RunnableMap
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.pydantic import is_basemodel_subclass, is_pydantic_v1_subclass
from pydantic import BaseModel, ValidationError
from pydantic.v1 import BaseModel as BaseModelV1
from pydantic.v1 import ValidationError as ValidationErrorV1

from langchain_gptoss._partial_json import PartialJson, WholeMembers
from langchain_gptoss._request import format_tools
from langchain_gptoss._tool_calls import LOST_ARGUMENTS_KEY

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from langchain_core.language_models import BaseChatModel, LanguageModelInput
    from langchain_core.runnables import Runnable, RunnableConfig

Method = Literal["json_schema", "function_calling", "json_mode"]


class JsonAnswerParser(BaseCumulativeTransformOutputParser[Any]):
    """Parse a JSON answer: the content, or the arguments of `tool_name`'s call.

    Strict once the answer is complete, and its errors keep the raw text. While
    streaming, an object of a pydantic `model_class` holds only the members that
    have fully arrived (`WholeMembers`), and comes once a new one validates;
    without a class, partial dicts come as LangChain's JSON parsers give them. A
    stream ends with the complete answer, parsed as strictly as `invoke` does.
    """

    model_class: Any = None
    """A pydantic class (v2 or v1) to validate into; None for plain JSON."""

    tool_name: str | None = None
    """Read the arguments of the first call to this tool instead of the content."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        """Return the parsed answer (None for a partial one with nothing to show)."""
        generation = result[0]
        if partial:
            chunk = (
                generation.message
                if isinstance(generation, ChatGeneration)
                else generation.text
            )
            return _Reader(self).feed(chunk)
        if self.tool_name is None:
            text = generation.text
            data = _loads(text, "The answer is not valid JSON")
        else:
            text, data = self._arguments(generation, self.tool_name)
        if self.model_class is None:
            return data
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

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:  # noqa: A002
        reader = _Reader(self)
        for chunk in input:
            parsed = reader.feed(chunk)
            if parsed is not None:
                yield parsed
        final = reader.finish()
        if final is not None:
            yield final

    async def _atransform(
        self,
        input: AsyncIterator[str | BaseMessage],  # noqa: A002
    ) -> AsyncIterator[Any]:
        reader = _Reader(self)
        async for chunk in input:
            parsed = reader.feed(chunk)
            if parsed is not None:
                yield parsed
        final = reader.finish()
        if final is not None:
            yield final

    def _validate(self, data: Any) -> Any:
        if self.model_class is None:
            return data
        if is_pydantic_v1_subclass(self.model_class):
            return self.model_class.parse_obj(data)
        return self.model_class.model_validate(data)

    @staticmethod
    def _arguments(generation: Generation, name: str) -> tuple[str, Any]:
        """The raw arguments of the first call to `name`, and their JSON.

        Without such a call, a JSON answer in the content is read as the call:
        vLLM up to 0.26 turns a forced `tool_choice` into a JSON grammar on
        the final channel only, so the call can come back as content.
        """
        message = getattr(generation, "message", None)
        found = _call_arguments(message, name)
        if found is None:
            found = _content_arguments(generation.text, name)
        if found is None:
            msg = f"The answer has no call to {name}."
            raise OutputParserException(msg, llm_output=generation.text)
        return found


def _call_arguments(message: Any, name: str) -> tuple[str, Any] | None:
    """The first call to `name` in `message`: raw arguments and JSON, or None."""
    if isinstance(message, AIMessageChunk):
        chunk = next((c for c in message.tool_call_chunks if c["name"] == name), None)
        if chunk is not None:
            _raise_if_lost(message, chunk["id"], name)
            text = chunk["args"] or ""
            what = f"The {name} call's arguments are not valid JSON"
            data = _loads(text, what) if text.strip() else {}
            if not isinstance(data, dict):
                msg = f"The {name} call's arguments are not a JSON object."
                raise OutputParserException(msg, llm_output=text)
            return text, data
    elif isinstance(message, AIMessage):
        call = next((c for c in message.tool_calls if c["name"] == name), None)
        if call is not None:
            return json.dumps(call["args"], ensure_ascii=False), call["args"]
        bad = next((c for c in message.invalid_tool_calls if c["name"] == name), None)
        if bad is not None:
            _raise_if_lost(message, bad["id"], name)
            # Core drops the error of calls it rebuilds from summed chunks.
            why = bad["error"] or "they are not a JSON object"
            msg = f"The {name} call's arguments are invalid: {why}."
            raise OutputParserException(msg, llm_output=bad["args"] or "")
    return None


def _raise_if_lost(message: BaseMessage, call_id: str | None, name: str) -> None:
    """Raise the stream's own error for a call whose arguments vLLM cut short.

    Raises:
        OutputParserException: With the error text and the arguments received.
    """
    for lost in message.response_metadata.get(LOST_ARGUMENTS_KEY) or ():
        if lost.get("id") == call_id and lost.get("name") == name:
            raise OutputParserException(lost["error"], llm_output=lost["args"])


_WRAPPER_KEYS = frozenset({"name", "parameters", "arguments"})


def _content_arguments(text: str, name: str) -> tuple[str, Any] | None:
    """A forced call answered as JSON content: its arguments, or None.

    Takes the arguments themselves (`{"city": ...}`, what the grammar for a
    named tool allows), a wrapped call (`{"name": name, "parameters": {...}}`
    or `"arguments"`, an object or a JSON string) and the list the grammar for
    `tool_choice="required"` allows (`[{"name": name, "parameters": {...}}]`).
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, list):
        wrapped = (_unwrapped(item, name) for item in data)
        args = next((a for a in wrapped if a is not None), None)
    elif isinstance(data, dict):
        args = _unwrapped(data, name)
        args = data if args is None else args
    else:
        return None
    return None if args is None else (text, args)


def _unwrapped(data: Any, name: str) -> dict[str, Any] | None:
    """The arguments of a `{"name", "parameters"|"arguments"}` call, or None."""
    if not isinstance(data, dict) or data.get("name") != name:
        return None
    if len(data) != 2 or not set(data) <= _WRAPPER_KEYS:  # noqa: PLR2004
        return None
    args = data.get("parameters", data.get("arguments"))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except (ValueError, RecursionError):
            return None
    return args if isinstance(args, dict) else None


class _Reader:
    """One streamed answer: the chunks so far and the object yielded last."""

    def __init__(self, parser: JsonAnswerParser) -> None:
        self._parser = parser
        self._chunks: list[str | BaseMessage] = []
        self._call: Any = _NO_CALL  # the index of the call being read
        self._partial = PartialJson()  # for partial dicts
        self._members = None if parser.model_class is None else WholeMembers()
        self._validated = 0  # members arrived at the last validation
        self._last: Any = None

    def feed(self, chunk: str | BaseMessage) -> Any:
        """Take one chunk; return what to yield now, or None."""
        self._chunks.append(chunk)
        piece = self._piece(chunk)
        if not piece:
            return None
        if self._members is None:
            self._partial.feed(piece)
            try:
                parsed = self._partial.value()
            except RecursionError:
                return None
            if self._parser.tool_name is not None and not isinstance(parsed, dict):
                return None
            return None if parsed is None else self._news(parsed)
        self._members.feed(piece)
        if self._members.arrived == self._validated:
            return None
        self._validated = self._members.arrived
        try:
            return self._news(self._parser._validate(dict(self._members.members)))  # noqa: SLF001
        except (ValidationError, ValidationErrorV1):
            return None  # a required member is still to come

    def finish(self) -> Any:
        """Parse the whole answer strictly; return it unless it was yielded last."""
        return self._news(self._parser.parse_result([_whole(self._chunks)]))

    def _piece(self, chunk: str | BaseMessage) -> str:
        name = self._parser.tool_name
        if name is None:
            return chunk if isinstance(chunk, str) else chunk.text
        if not isinstance(chunk, AIMessageChunk):
            return ""
        parts = []
        for call in chunk.tool_call_chunks:
            if self._call is _NO_CALL and call["name"] == name:
                self._call = call["index"]
            if self._call is not _NO_CALL and call["index"] == self._call:
                parts.append(call["args"] or "")
        return "".join(parts)

    def _news(self, parsed: Any) -> Any:
        if _same(parsed, self._last):
            return None
        self._last = parsed
        return parsed


_NO_CALL = object()


def _same(new: Any, old: Any) -> bool:
    """Equal, and for pydantic objects with the same fields set."""
    if new != old:
        return False
    if isinstance(new, BaseModel):
        return bool(new.model_fields_set == old.model_fields_set)
    if isinstance(new, BaseModelV1):
        return bool(new.__fields_set__ == old.__fields_set__)
    return True


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise OutputParserException(f"{what} ({exc}).", llm_output=text) from exc


def _whole(chunks: list[str | BaseMessage]) -> Generation:
    """The answer the chunks add up to, merged once rather than chunk by chunk."""
    messages = [c for c in chunks if isinstance(c, AIMessageChunk)]
    if messages and len(messages) == len(chunks):
        first, *rest = messages
        return ChatGeneration(message=first + rest if rest else first)
    texts = [c for c in chunks if isinstance(c, str)]
    if len(texts) == len(chunks):
        return Generation(text="".join(texts))
    if len(chunks) == 1 and isinstance(chunks[0], BaseMessage):
        return ChatGeneration(message=chunks[0])
    generations: list[Any] = [
        GenerationChunk(text=c)
        if isinstance(c, str)
        else ChatGenerationChunk(
            message=c
            if isinstance(c, BaseMessageChunk)
            else BaseMessageChunk(**c.model_dump())
        )
        for c in chunks
    ]
    merged: Generation = reduce(add, generations)
    return merged


def _with_raw(parser: JsonAnswerParser) -> Runnable[dict[str, Any], dict[str, Any]]:
    """`{"raw", "parsed", "parsing_error"}`: the same dict streamed as invoked.

    Errors are returned, not raised. Whether the answer parses is known only once
    it is complete, so a stream yields this dict once, at its end.
    """

    def parse(inputs: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        raw = inputs["raw"]
        try:
            parsed = parser.invoke(raw, config)
        except Exception as exc:  # what `with_fallbacks` used to catch
            return {"raw": raw, "parsed": None, "parsing_error": exc}
        return {"raw": raw, "parsed": parsed, "parsing_error": None}

    async def aparse(inputs: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        raw = inputs["raw"]
        try:
            parsed = await parser.ainvoke(raw, config)
        except Exception as exc:
            return {"raw": raw, "parsed": None, "parsing_error": exc}
        return {"raw": raw, "parsed": parsed, "parsing_error": None}

    return RunnableLambda(parse, afunc=aparse, name="parse_structured_output")


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
    model_class = schema if is_pydantic else None
    if method == "function_calling":
        tool = format_tools([schema], strict=strict)[0]
        name = tool["function"]["name"]
        trace = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        bound = model.bind_tools(
            [schema], tool_choice=name, strict=strict, ls_structured_output_format=trace
        )
        parser = JsonAnswerParser(model_class=model_class, tool_name=name)
    elif method in {"json_schema", "json_mode"}:
        response_format, trace = _response_format(schema, method, strict)
        bound = model.bind(
            response_format=response_format, ls_structured_output_format=trace
        )
        parser = JsonAnswerParser(model_class=model_class)
    else:
        msg = (
            f"Unknown method {method!r}: use 'json_schema', 'function_calling' or "
            "'json_mode'."
        )
        raise ValueError(msg)
    if not include_raw:
        return bound | parser
    return RunnableMap(raw=bound) | _with_raw(parser)


def _response_format(
    schema: Any, method: Method, strict: bool | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `response_format` for json_schema or json_mode, and its trace."""
    if method == "json_mode":
        return {"type": "json_object"}, {"kwargs": {"method": method}, "schema": schema}
    json_schema = convert_to_json_schema(schema, strict=strict)
    response_format = {
        "type": "json_schema",
        "json_schema": {
            "name": json_schema.get("title", "output"),
            "schema": json_schema,
            **({"strict": strict} if strict is not None else {}),
        },
    }
    return response_format, {
        "kwargs": {"method": method, "strict": strict},
        "schema": schema,
    }

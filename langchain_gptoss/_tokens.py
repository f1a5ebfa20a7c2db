"""gpt-oss's tokenizer: the `o200k_harmony` encoding from openai-harmony, loaded once.

openai-harmony (the renderer vLLM itself uses) needs the BPE vocabulary
`o200k_base.tiktoken`. It is found, in this order:

1. in the folder `TIKTOKEN_ENCODINGS_BASE` names, if set (vLLM's offline convention);
2. in the `bpe-openai==0.1.4` package, if installed: its gzipped copy is unpacked
   once into a private cache folder, its SHA-256 checked, and harmony pointed there
   for the duration of the load;
3. by openai-harmony's own download.

`count` renders `_harmony`'s messages with openai-harmony one by one, caching
each message's count, so a growing history costs only its new messages. Without
openai-harmony, counts fall back to LangChain's `count_tokens_approximately`,
with a one-time warning.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_gptoss import _harmony
from langchain_gptoss.errors import GptOssError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

logger = logging.getLogger("langchain_gptoss")

VOCABULARY = "o200k_base.tiktoken"
VOCABULARY_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
"""The hash tiktoken and openai-harmony pin for `o200k_base.tiktoken`."""
ENV = "TIKTOKEN_ENCODINGS_BASE"
INSTALL_HINT = (
    "pip install 'langchain-gptoss[tokens]' (or '[tokens-offline]' without network)"
)
_BPE_PACKAGE = "bpe_openai"
_BPE_FILE = ("data", "o200k_base.tiktoken.gz")

_lock = threading.Lock()
# None: not loaded yet; then the encoding, _MISSING (no openai-harmony), or the
# GptOssError the load ended in.
_encoding: Any = None


def _reset_lock_in_child() -> None:
    global _lock  # noqa: PLW0603 - a fork may have copied the lock held
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_in_child)


class _HarmonyMissingError(ImportError):
    pass


def _import_harmony() -> Any:
    """The `openai_harmony` module (a seam: tests make it missing)."""
    try:
        import openai_harmony  # noqa: PLC0415 - optional, and loads a native module
    except ImportError as exc:
        raise _HarmonyMissingError(str(exc)) from exc
    return openai_harmony


def cache_dir() -> Path:
    """Where the unpacked vocabulary is kept: `$XDG_CACHE_HOME/langchain-gptoss`."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "langchain-gptoss"


def bundled_vocabulary() -> Path | None:
    """The gzipped vocabulary shipped by `bpe-openai`, if it is installed.

    Found without importing the package (which would load its own tokenizer).
    """
    spec = importlib.util.find_spec(_BPE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = Path(root).joinpath(*_BPE_FILE)
        if candidate.is_file():
            return candidate
    return None


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def unpack_vocabulary(source: Path, folder: Path) -> Path:
    """Gunzip `source` into `folder` (atomically), unless a good copy is there.

    Returns:
        The folder holding a verified `o200k_base.tiktoken`.

    Raises:
        GptOssError: If the unpacked file does not have the pinned SHA-256.
    """
    target = folder / VOCABULARY
    if target.is_file() and _sha256(target) == VOCABULARY_SHA256:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".o200k-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out, gzip.open(source, "rb") as packed:
            while block := packed.read(1 << 20):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != VOCABULARY_SHA256:
            msg = (
                f"{source} unpacks to a file with SHA-256 {digest.hexdigest()}, not "
                f"the {VOCABULARY_SHA256} of {VOCABULARY}: token counts from it "
                "would be wrong. Reinstall it (pip install --force-reinstall "
                f"bpe-openai==0.1.4), or set {ENV} to a folder with a good "
                f"{VOCABULARY}."
            )
            raise GptOssError(msg)
        Path(temporary).replace(target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return folder


@contextmanager
def _env_set(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _vocabulary_folder() -> tuple[Path | None, str, str]:
    """Where harmony should read the vocabulary: (folder or None, where, remedy).

    None means harmony's own choice: `TIKTOKEN_ENCODINGS_BASE`, or its download.
    """
    if os.environ.get(ENV):
        return (
            None,
            f"{ENV}={os.environ[ENV]}",
            f"Put {VOCABULARY} in that folder, or unset {ENV}.",
        )
    remedy = (
        f"Offline, pip install 'langchain-gptoss[tokens-offline]' (it ships the "
        f"file), or set {ENV} to a folder holding {VOCABULARY}."
    )
    source = bundled_vocabulary()
    if source is None:
        return None, "openai-harmony's download", remedy
    try:
        folder = unpack_vocabulary(source, cache_dir())
    except OSError:
        # An unwritable cache (read-only home): a private folder will do.
        folder = unpack_vocabulary(
            source, Path(tempfile.mkdtemp(prefix="langchain-gptoss-"))
        )
    return folder, f"{folder} (unpacked from bpe-openai)", remedy


def _load(harmony: Any) -> Any:
    """Load `o200k_harmony`, finding the vocabulary as the module docstring says.

    Raises:
        GptOssError: Naming where the vocabulary was looked for and the fix.
    """
    folder, where, remedy = _vocabulary_folder()
    name = harmony.HarmonyEncodingName.HARMONY_GPT_OSS
    try:
        if folder is None:
            return harmony.load_harmony_encoding(name)
        with _env_set(ENV, str(folder)):
            return harmony.load_harmony_encoding(name)
    except Exception as exc:
        msg = (
            f"openai-harmony could not load the gpt-oss vocabulary {VOCABULARY} from "
            f"{where}: {exc}. {remedy}"
        )
        raise GptOssError(msg) from exc


_MISSING = object()


def encoding() -> Any:
    """The `o200k_harmony` encoding, loaded once; None without openai-harmony.

    A failure is remembered too: every later call raises the same error at once
    rather than, say, trying a download again.

    Raises:
        GptOssError: If harmony is installed but the vocabulary cannot be had.
    """
    global _encoding  # noqa: PLW0603 - one encoding per process
    state = _encoding
    if state is None:
        with _lock:
            if _encoding is None:
                _encoding = _first_load()
            state = _encoding
    if state is _MISSING:
        return None
    if isinstance(state, GptOssError):
        raise state
    return state


def _first_load() -> Any:
    try:
        harmony = _import_harmony()
    except _HarmonyMissingError:
        logger.warning(
            "openai-harmony is not installed, so ChatGptOss counts tokens "
            "approximately (about 4 characters a token). For exact gpt-oss "
            "counts: %s.",
            INSTALL_HINT,
        )
        return _MISSING
    try:
        return _load(harmony)
    except GptOssError as exc:
        return exc


def today() -> str:
    """The date vLLM prints in its system message (the server's local date)."""
    return dt.date.today().isoformat()  # noqa: DTZ011 - vLLM's own choice


_EFFORTS = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH"}


def _harmony_message(harmony: Any, message: _harmony.Message) -> Any:
    """The openai-harmony `Message` for one of `_harmony`'s messages."""
    if isinstance(message, _harmony.System):
        return _system_message(harmony, message)
    if isinstance(message, _harmony.Developer):
        return _developer_message(harmony, message)
    try:
        role = harmony.Role(message.role)
    except ValueError as exc:
        msg = (
            f"Role {message.role!r} has no harmony form (vLLM refuses it): use "
            "system, developer, user, assistant or tool."
        )
        raise ValueError(msg) from exc
    return harmony.Message(
        author=harmony.Author(role=role, name=message.name),
        content=[harmony.TextContent(text=text) for text in message.texts],
        channel=message.channel,
        recipient=message.recipient,
        content_type=message.content_type,
    )


def _system_message(harmony: Any, message: _harmony.System) -> Any:
    effort = _EFFORTS.get(message.reasoning_effort)
    if effort is None:
        msg = (
            f"reasoning_effort must be one of {sorted(_EFFORTS)}, got "
            f"{message.reasoning_effort!r}."
        )
        raise ValueError(msg)
    content = (
        harmony.SystemContent.new()
        .with_reasoning_effort(getattr(harmony.ReasoningEffort, effort))
        .with_conversation_start_date(message.date)
        .with_required_channels(list(message.channels))
    )
    return harmony.Message.from_role_and_content(harmony.Role.SYSTEM, content)


def _developer_message(harmony: Any, message: _harmony.Developer) -> Any:
    developer = harmony.DeveloperContent.new()
    if message.instructions is not None:
        developer = developer.with_instructions(message.instructions)
    if message.tools:
        tools = [
            harmony.ToolDescription.new(
                tool.name,
                tool.description,
                None if tool.parameters is None else json.loads(tool.parameters),
            )
            for tool in message.tools
        ]
        developer = developer.with_function_tools(tools)
    return harmony.Message.from_role_and_content(harmony.Role.DEVELOPER, developer)


def _has_function_tools(messages: list[_harmony.Message]) -> bool:
    return any(isinstance(m, _harmony.Developer) and m.tools for m in messages)


def render(
    enc: Any, body: Mapping[str, Any], version: _harmony.Version, date: str
) -> list[int]:
    """The prompt token ids vLLM `version` hands its engine for `body` on `date`."""
    harmony = _import_harmony()
    messages = _harmony.body_to_messages(body, version, date)
    conversation = harmony.Conversation.from_messages(
        [_harmony_message(harmony, message) for message in messages]
    )
    ids: list[int] = enc.render_conversation_for_completion(
        conversation, harmony.Role.ASSISTANT
    )
    return ids


@functools.lru_cache(maxsize=2048)
def _message_tokens(message: _harmony.Message, has_function_tools: bool) -> int:
    """Tokens of one rendered message (harmony renders each one on its own)."""
    harmony = _import_harmony()
    options = harmony.RenderOptions(conversation_has_function_tools=has_function_tools)
    return len(encoding().render(_harmony_message(harmony, message), options))


@functools.cache
def _completion_prefix_tokens() -> int:
    """Tokens of the `<|start|>assistant` that ends every prompt."""
    harmony = _import_harmony()
    empty = harmony.Conversation.from_messages([])
    return len(
        encoding().render_conversation_for_completion(empty, harmony.Role.ASSISTANT)
    )


def count(body: Mapping[str, Any], version: _harmony.Version, date: str) -> int:
    """`len(render(...))`, from per-message counts cached across calls.

    A conversation renders as its messages rendered one by one, then
    `<|start|>assistant` (openai-harmony's `render_conversation_for_completion`),
    so the messages a history shares with the previous count cost nothing.
    """
    messages = _harmony.body_to_messages(body, version, date)
    tools = _has_function_tools(messages)
    return _completion_prefix_tokens() + sum(
        _message_tokens(message, tools) for message in messages
    )


def prompt_tokens(
    body: Mapping[str, Any],
    version: _harmony.Version,
    *,
    approximate: Callable[[], int],
    date: str | None = None,
) -> int:
    """The prompt tokens vLLM `version` reports for `body`.

    Without openai-harmony: `approximate()` (after a one-time warning).
    """
    if encoding() is None:
        return approximate()
    return count(body, version, date or today())


def text_token_ids(text: str) -> list[int]:
    """Plain o200k token ids of `text` (special-token look-alikes as ordinary text).

    Raises:
        ImportError: Without openai-harmony: ids need the real tokenizer.
    """
    enc = encoding()
    if enc is None:
        msg = f"Token ids need gpt-oss's tokenizer: {INSTALL_HINT}."
        raise ImportError(msg)
    ids: list[int] = enc.encode(text, disallowed_special=())
    return ids

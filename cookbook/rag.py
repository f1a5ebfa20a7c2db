"""Retrieval-augmented QA over a handful of bundled documents, with citations.

Shows a small RAG pipeline built from langchain-core parts: the policy notes in
`cookbook/docs/` are cut into paragraphs, stored in an `InMemoryVectorStore`,
retrieved for each question, numbered, and handed to ChatGptOss with instructions
to cite them as [1], [2], ... Each answer is printed with the passages it cites.

The embedding is lexical on purpose: `LexicalEmbeddings` below is a TF-IDF vector
over hashed words, fitted on the documents. It needs no model weights, no download
and no extra package, gives the same vectors on every machine, and on a few
keyword-rich notes retrieves as well as a neural model would. For a real corpus,
swap in a neural embedding (any `langchain_core.embeddings.Embeddings`); nothing
else changes.

Run from the repository root:

    python cookbook/rag.py

It talks to TIR when E2E_TIR_ACCESS_TOKEN and E2E_TIR_PROJECT_ID are set, otherwise
to the bundled emulator (and says so on its first line).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from _connect import chat_model
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnableParallel
from langchain_core.vectorstores import InMemoryVectorStore

DOCS = Path(__file__).parent / "docs"
DIMENSIONS = 2048
STOPWORDS = frozenset({
    "a", "an", "and", "any", "are", "as", "at", "be", "by", "can", "do", "for",
    "from", "has", "have", "how", "i", "in", "is", "it", "its", "many", "may",
    "much", "my", "of", "on", "or", "the", "their", "there", "to", "up", "what",
    "when", "where", "which", "who", "with", "you", "your",
})  # fmt: skip

QUESTIONS = [
    "How many days before departure must I book an international flight?",
    "What should I do if I lose my laptop?",
    "How many unused leave days carry over to next year?",
]

SYSTEM = """Answer the question from the numbered sources below and nothing else.
Cite every fact with the number of its source, like [2]. If the sources do not
hold the answer, say so.

Sources:
{sources}"""

PROMPT = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", "{question}")])


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS]


class LexicalEmbeddings(Embeddings):
    """TF-IDF over hashed words: deterministic, offline, no weights."""

    def __init__(self, corpus: list[str]) -> None:
        counts = Counter(w for text in corpus for w in set(words(text)))
        self.idf = {
            w: math.log((1 + len(corpus)) / (1 + n)) + 1 for w, n in counts.items()
        }
        self.unseen_idf = math.log(1 + len(corpus)) + 1

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * DIMENSIONS
        for word, count in Counter(words(text)).items():
            weight = (1 + math.log(count)) * self.idf.get(word, self.unseen_idf)
            vector[zlib.crc32(word.encode()) % DIMENSIONS] += weight
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def load_passages() -> list[Document]:
    """Each paragraph of each bundled note, with where it came from."""
    passages = []
    for path in sorted(DOCS.glob("*.md")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        for number, paragraph in enumerate(body.strip().split("\n\n"), start=1):
            text = " ".join(paragraph.split())
            metadata = {
                "source": path.name,
                "title": title.lstrip("# "),
                "paragraph": number,
            }
            passages.append(Document(page_content=text, metadata=metadata))
    return passages


def numbered(docs: list[Document]) -> str:
    return "\n".join(f"[{i}] {doc.page_content}" for i, doc in enumerate(docs, start=1))


def main() -> None:
    passages = load_passages()
    store = InMemoryVectorStore(LexicalEmbeddings([p.page_content for p in passages]))
    store.add_documents(passages)
    retriever = store.as_retriever(search_kwargs={"k": 3})

    with chat_model(reasoning_effort="low", temperature=0) as model:
        answer = (
            RunnableLambda(
                lambda x: {"question": x["question"], "sources": numbered(x["docs"])}
            )
            | PROMPT
            | model
            | StrOutputParser()
        )
        chain = RunnableParallel(question=lambda q: q, docs=retriever).assign(
            answer=answer
        )
        notes = {p.metadata["source"] for p in passages}
        print(f"{len(passages)} passages from {len(notes)} notes")
        for question in QUESTIONS:
            result: dict[str, Any] = chain.invoke(question)
            print(f"\nQ: {question}\nA: {result['answer']}")
            for i, doc in enumerate(result["docs"], start=1):
                where = f"{doc.metadata['source']} ¶{doc.metadata['paragraph']}"
                print(f"   [{i}] {where}: {doc.page_content[:70]}...")


if __name__ == "__main__":
    main()

"""A LangChain retrieval chain under test: `python:examples.langchain_rag:GardenRAG` (examples/systems/).

The harness builds the class once, hands it the suite's corpus (`index`, for a rag kind), and asks
`answer` each question; the chain returns its answer with the documents it used, which the harness scores
as the contexts. In a real chain the reader is a chat model, e.g.
`ChatPromptTemplate.from_template(...) | ChatOpenAI(base_url=...) | StrOutputParser()`.
"""

from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough

from examples.offline_parts import BM25Retriever, closest_sentence


def read(x: dict) -> dict:  # a real chain has its chat model here
    return {**x, "answer": closest_sentence(x["question"], x["context"])}


class GardenRAG:
    def index(self, corpus: list[dict]) -> None:
        docs = [Document(page_content=p["text"], id=p["id"]) for p in corpus]
        retriever = BM25Retriever.from_documents(docs)
        retrieve = RunnableParallel(context=retriever, question=RunnablePassthrough())
        self.chain = retrieve | RunnableLambda(read)

    def answer(self, question: str) -> dict:
        return self.chain.invoke(question)  # {"question", "context": [Document, ...], "answer"}

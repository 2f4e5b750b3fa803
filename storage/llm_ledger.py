"""The store's language model ledger: each call's tokens and cost, and answers kept by key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain import ModelSpend, ModelUsage
from storage.base import StoreBase, chunks
from storage.models import LlmAnswerRow, LlmCallRow


class LlmLedgerPart(StoreBase):
    """The language model's calls (what was spent) and its validated answers (reused)."""

    async def record_llm_call(
        self,
        purpose: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float,
        at: datetime,
    ) -> None:
        """Record one model call's tokens and cost."""
        row = LlmCallRow(
            at=at,
            purpose=purpose,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd,
        )
        await self._run(lambda session: session.add(row))

    async def llm_spend_since(self, since: datetime) -> ModelSpend:
        """Return the calls, tokens and cost in USD spent on the model since ``since``."""

        def read(session: Session) -> ModelSpend:
            calls, tokens, cost = session.execute(
                select(
                    func.count(LlmCallRow.id),
                    func.coalesce(func.sum(LlmCallRow.input_tokens + LlmCallRow.output_tokens), 0),
                    func.coalesce(func.sum(LlmCallRow.cost_usd), 0.0),
                ).where(LlmCallRow.at >= since)
            ).one()
            return ModelSpend(int(calls), int(tokens), float(cost))

        return await self._run(read)

    async def llm_usage(self) -> list[ModelUsage]:
        """Return each model's tokens and cost over the whole ledger (the metrics' counters)."""

        def read(session: Session) -> list[ModelUsage]:
            rows = session.execute(
                select(
                    LlmCallRow.model,
                    func.coalesce(func.sum(LlmCallRow.input_tokens), 0),
                    func.coalesce(func.sum(LlmCallRow.output_tokens), 0),
                    func.coalesce(func.sum(LlmCallRow.cost_usd), 0.0),
                )
                .group_by(LlmCallRow.model)
                .order_by(LlmCallRow.model)
            ).all()
            return [ModelUsage(str(m), int(i), int(o), float(c)) for m, i, o, c in rows]

        return await self._run(read)

    async def llm_answers(
        self, keys: Sequence[str], prompt_version: str, model: str
    ) -> dict[str, dict[str, Any]]:
        """Return the kept answers for ``keys`` under this prompt version and model."""

        def read(session: Session) -> dict[str, dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            for chunk in chunks(list(keys)):
                rows = session.scalars(
                    select(LlmAnswerRow).where(
                        LlmAnswerRow.key.in_(chunk),
                        LlmAnswerRow.prompt_version == prompt_version,
                        LlmAnswerRow.model == model,
                    )
                )
                found.update((row.key, dict(row.answer)) for row in rows)
            return found

        return await self._run(read)

    async def save_llm_answers(
        self,
        answers: Mapping[str, Mapping[str, Any]],
        prompt_version: str,
        model: str,
        at: datetime,
    ) -> None:
        """Keep validated answers by key, prompt version and model (existing ones stay)."""

        def write(session: Session) -> None:
            known = set(
                session.scalars(
                    select(LlmAnswerRow.key).where(
                        LlmAnswerRow.key.in_(list(answers)),
                        LlmAnswerRow.prompt_version == prompt_version,
                        LlmAnswerRow.model == model,
                    )
                )
            )
            for key, answer in answers.items():
                if key not in known:
                    session.add(
                        LlmAnswerRow(
                            key=key,
                            prompt_version=prompt_version,
                            model=model,
                            answer=dict(answer),
                            created_at=at,
                        )
                    )

        await self._run(write)

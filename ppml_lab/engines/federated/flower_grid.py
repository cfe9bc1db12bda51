"""A Flower Grid that counts the bytes of every message and waits for replies briskly.

Wraps the Grid Flower hands the ServerApp. Every message the server pushes and every reply it
pulls is measured as Flower serialises it (the message and each of its records and arrays,
``InflatableObject.deflate()``: what a SuperNode downloads or uploads, before HTTP framing).
Messages of SecAgg+'s key-exchange and unmasking stages are also counted apart, as the
protocol's overhead.

``send_and_receive`` polls for replies every 50 ms instead of Flower's 3 s (a round of SecAgg+
is four exchanges), through the Grid's public ``push_messages``/``pull_messages``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from flwr.app import Message, RecordDict
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
from flwr.serverapp import Grid
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects

__all__ = ["CountingGrid", "message_bytes"]

_POLL_SECONDS = 0.05


def message_bytes(msg: Message) -> int:
    """Serialised size of ``msg`` with all its records and arrays."""
    return sum(len(obj.deflate()) for obj in get_all_nested_objects(msg).values())


def _stage(msg: Message) -> str:
    try:
        cfg = msg.content.config_records.get(RECORD_KEY_CONFIGS)
    except Exception:  # noqa: BLE001 - an error reply has no content
        return ""
    return str(cfg.get(Key.STAGE, "")) if cfg is not None else ""


class CountingGrid(Grid):
    """Delegates to ``inner``; ``take_counts()`` returns and resets the bytes moved so far."""

    def __init__(self, inner: Grid, *, poll_seconds: float = _POLL_SECONDS) -> None:
        self._inner = inner
        self._poll = poll_seconds
        self._stage_of: dict[str, str] = {}
        self.reset()

    def reset(self) -> None:
        self.bytes_down = 0  # server -> clients
        self.bytes_up = 0  # clients -> server
        self.protocol_bytes = 0  # SecAgg+ setup, key sharing and unmasking, both ways
        self.messages = 0

    def take_counts(self) -> dict[str, int]:
        counts = {
            "bytes_down": self.bytes_down,
            "bytes_up": self.bytes_up,
            "protocol_bytes": self.protocol_bytes,
            "messages": self.messages,
        }
        self.reset()
        return counts

    # -- the Grid interface ------------------------------------------------------------------

    def set_run(self, run: Any) -> None:
        self._inner.set_run(run)

    @property
    def run(self) -> Any:
        return self._inner.run

    def create_message(
        self,
        content: RecordDict,
        message_type: str,
        dst_node_id: int,
        group_id: str,
        ttl: float | None = None,
    ) -> Message:
        return self._inner.create_message(content, message_type, dst_node_id, group_id, ttl)

    def get_node_ids(self) -> Iterable[int]:
        return self._inner.get_node_ids()

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        messages = list(messages)
        sizes = [message_bytes(m) for m in messages]
        stages = [_stage(m) for m in messages]
        ids = list(self._inner.push_messages(messages))
        for msg_id, size, stage in zip(ids, sizes, stages):
            if msg_id is None:
                continue
            self.bytes_down += size
            self.messages += 1
            self._stage_of[msg_id] = stage
            if stage and stage != Stage.COLLECT_MASKED_VECTORS:
                self.protocol_bytes += size
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        replies = list(self._inner.pull_messages(message_ids))
        for reply in replies:
            size = message_bytes(reply)
            self.bytes_up += size
            self.messages += 1
            stage = self._stage_of.pop(reply.metadata.reply_to_message_id, "")
            if stage and stage != Stage.COLLECT_MASKED_VECTORS:
                self.protocol_bytes += size
        return replies

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> Iterable[Message]:
        """Push ``messages``; pull replies every 50 ms until all arrived or ``timeout`` passed."""
        pending = {m for m in self.push_messages(list(messages)) if m is not None}
        deadline = None if timeout is None else time.monotonic() + timeout
        replies: list[Message] = []
        while pending:
            got = list(self.pull_messages(pending))
            replies.extend(got)
            pending.difference_update(r.metadata.reply_to_message_id for r in got)
            if not pending or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(self._poll)
        for msg_id in pending:  # never answered: forget their stage
            self._stage_of.pop(msg_id, None)
        return replies

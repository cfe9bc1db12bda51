"""The lab's Flower ServerApp and ClientApps in one process, for fast tests of their logic.

``InProcessGrid`` is a Flower ``Grid`` that hands every message straight to the destination
node's ClientApp (with that node's own ``Context``, as a SuperNode would) and keeps the reply
for ``pull_messages``. Flower's message classes, records, mods (SecAgg+) and workflows run
unchanged; only the network and the processes are left out (the deployment has its own tests).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import Context, Error, Message, RecordDict
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
from flwr.serverapp import Grid
from flwr.supercore.inflatable.inflatable_object import get_all_nested_objects
from flwr.supercore.inflatable.inflatable_utils import inflate_object_from_contents
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

from ppml_lab.engines.federated.flower_wire import SPEC_KEY, RunSpec

RUN_ID = 7


class InProcessGrid(Grid):
    def __init__(self, app: Any, nodes: dict[int, Context], *, fail: set[int] = frozenset()) -> None:
        self._app = app
        self._nodes = nodes
        self._fail = set(fail)  # node ids that answer training messages with an error
        self._replies: dict[str, Message] = {}
        self._run = Run.create_empty(RUN_ID)

    def set_run(self, run: Any) -> None:
        self._run = run

    @property
    def run(self) -> Any:
        return self._run

    def create_message(self, content, message_type, dst_node_id, group_id, ttl=None) -> Message:  # noqa: ANN001
        return Message(content, dst_node_id=dst_node_id, message_type=message_type, group_id=group_id, ttl=ttl)

    def get_node_ids(self) -> list[int]:
        return list(self._nodes)

    def push_messages(self, messages) -> list[str]:  # noqa: ANN001
        ids = []
        for msg in messages:
            msg.metadata.__dict__["_message_id"] = msg.object_id
            node = msg.metadata.dst_node_id
            if node in self._fail and _trains(msg):
                reply = Message(Error(code=1, reason="this node fails on purpose"), reply_to=msg)
            else:
                # A SuperNode gets its own copy (SecAgg+ sends one content to all and its mod
                # consumes keys of what it receives).
                try:
                    reply = self._app(_over_the_wire(msg), self._nodes[node])
                except Exception as exc:  # noqa: BLE001 - as Flower's ClientApp runtime does
                    reply = Message(Error(code=2, reason=f"{type(exc)}:<'{exc}'>"), reply_to=msg)
            reply.metadata.__dict__["_message_id"] = reply.object_id
            self._replies[msg.metadata.message_id] = reply
            ids.append(msg.metadata.message_id)
        return ids

    def pull_messages(self, message_ids) -> list[Message]:  # noqa: ANN001
        return [self._replies.pop(i) for i in list(message_ids) if i in self._replies]

    def send_and_receive(self, messages, *, timeout=None) -> list[Message]:  # noqa: ANN001
        return self.pull_messages(self.push_messages(list(messages)))


def _trains(msg: Message) -> bool:
    """A training message: plain, or SecAgg+'s masked-vector stage (where the client trains)."""
    if msg.metadata.message_type != "train":
        return False
    cfg = msg.content.config_records.get(RECORD_KEY_CONFIGS)
    return cfg is None or cfg.get(Key.STAGE) == Stage.COLLECT_MASKED_VECTORS


def _over_the_wire(msg: Message) -> Message:
    """The message as a SuperNode receives it: serialised by Flower and rebuilt."""
    contents = {oid: obj.deflate() for oid, obj in get_all_nested_objects(msg).items()}
    received = inflate_object_from_contents(msg.object_id, contents)
    received.metadata.__dict__["_message_id"] = msg.metadata.message_id
    return received


def node_contexts(spec: RunSpec, files: list[Path]) -> dict[int, Context]:
    """One Context per SuperNode, node ids 101, 102, ... in a shuffled order of clients."""
    run_config = {SPEC_KEY: spec.to_config_value()}
    order = np.random.default_rng(1).permutation(len(files))
    return {
        101 + i: Context(
            run_id=RUN_ID, node_id=101 + i,
            node_config={"partition-id": int(k), "num-partitions": len(files), "data-file": str(files[k])},
            state=RecordDict(), run_config=run_config,
        )
        for i, k in enumerate(order)
    }


@contextlib.contextmanager
def server_identity() -> Any:
    """Messages the server creates need the run and node of the current task."""
    saved = (TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id)
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = RUN_ID, 1, 1
    try:
        yield
    finally:
        TaskIdentity._run_id, TaskIdentity._node_id, TaskIdentity._task_id = saved


def server_context(spec: RunSpec) -> Context:
    return Context(run_id=RUN_ID, node_id=1, node_config={}, state=RecordDict(),
                   run_config={SPEC_KEY: spec.to_config_value()})

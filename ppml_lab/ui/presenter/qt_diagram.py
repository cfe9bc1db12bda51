"""The animated diagram of who sends what to whom: readable data against locked data.

A :class:`DiagramWidget` draws a scenario's actors (:class:`~ppml_lab.experiments.scenarios.Actor`)
as cards in a QGraphicsScene and plays its steps one after the other, in a loop: in each step the
step's messages travel as small documents from sender to receiver, an orange open page for
readable data and a dark-blue page with a padlock for locked data; a message from an actor to
itself is work done in place (a ring pulses around the actor). A QTimer (30 frames a second)
moves the items; it runs only while the widget is shown. The caption of the current step is
emitted (:attr:`DiagramWidget.step_changed`) for the screen to show in large type.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ppml_lab.experiments.scenarios import Actor, DiagramStep
from ppml_lab.ui.presenter import qt_theme as theme

#: The scene's size (scene units are pixels of a 1920 x 1080 screen, roughly).
SCENE_W, SCENE_H = 1600.0, 760.0
#: The band the actors' centres are placed in (x, y of an actor map into it).
_LEFT, _RIGHT, _TOP, _BOTTOM = 190.0, SCENE_W - 190.0, 100.0, 560.0
CARD_W, CARD_H = 330.0, 176.0
#: One step: fade in, travel, hold (milliseconds); and the pause before the loop starts again.
FADE_MS, TRAVEL_MS, HOLD_MS, LOOP_PAUSE_MS = 350, 1900, 1150, 900
STEP_MS = FADE_MS + TRAVEL_MS + HOLD_MS
FRAME_MS = 33


def _ease(t: float) -> float:
    """Ease in and out (cubic), for ``t`` in [0, 1]."""
    t = min(1.0, max(0.0, t))
    return 4 * t ** 3 if t < 0.5 else 1 - (-2 * t + 2) ** 3 / 2


def scene_point(actor: Actor) -> QPointF:
    """Where an actor's centre is drawn."""
    return QPointF(_LEFT + actor.x * (_RIGHT - _LEFT), _TOP + actor.y * (_BOTTOM - _TOP))


def _to_edge(u: QPointF) -> float:
    """How far from a card's centre its edge is, in direction ``u`` (a unit vector)."""
    ux, uy = abs(u.x()), abs(u.y())
    return min(CARD_W / 2 / ux if ux > 1e-9 else math.inf, CARD_H / 2 / uy if uy > 1e-9 else math.inf)


def _close(u: QPointF, v: QPointF) -> bool:
    """Whether two directions are within about 35 degrees of each other."""
    return u.x() * v.x() + u.y() * v.y() > 0.82


# ------------------------------------------------------------------------------ items ---


def _role_icon(painter: QPainter, role: str, center: QPointF, size: float) -> None:
    """A small drawing of what the actor is (records, a server, a key, people, an outsider)."""
    ink = QColor(theme.ALARM if role == "attacker" else theme.INK)
    painter.setPen(QPen(ink, size * 0.07, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    x, y, s = center.x(), center.y(), size
    if role == "owner":  # a stack of records (a database cylinder)
        w, h = s * 0.8, s * 0.22
        top = y - s * 0.38
        for i in range(3):
            painter.drawEllipse(QRectF(x - w / 2, top + i * s * 0.25, w, h))
        painter.drawLine(QPointF(x - w / 2, top + h / 2), QPointF(x - w / 2, top + h / 2 + s * 0.5))
        painter.drawLine(QPointF(x + w / 2, top + h / 2), QPointF(x + w / 2, top + h / 2 + s * 0.5))
    elif role == "server":  # a rack of three units with lights
        for i in range(3):
            r = QRectF(x - s * 0.42, y - s * 0.42 + i * s * 0.29, s * 0.84, s * 0.24)
            painter.drawRoundedRect(r, s * 0.05, s * 0.05)
            painter.drawPoint(QPointF(r.right() - s * 0.12, r.center().y()))
    elif role == "keyholder":  # a key
        painter.drawEllipse(QPointF(x - s * 0.22, y), s * 0.2, s * 0.2)
        painter.drawLine(QPointF(x - s * 0.02, y), QPointF(x + s * 0.42, y))
        painter.drawLine(QPointF(x + s * 0.3, y), QPointF(x + s * 0.3, y + s * 0.16))
        painter.drawLine(QPointF(x + s * 0.42, y), QPointF(x + s * 0.42, y + s * 0.2))
    else:  # people: the users of a model, or an outsider trying to learn too much
        painter.drawEllipse(QPointF(x, y - s * 0.2), s * 0.17, s * 0.17)
        path = QPainterPath()
        path.moveTo(x - s * 0.34, y + s * 0.42)
        path.cubicTo(x - s * 0.34, y + s * 0.02, x + s * 0.34, y + s * 0.02, x + s * 0.34, y + s * 0.42)
        painter.drawPath(path)
        if role == "attacker":
            painter.setFont(theme.font(s * 0.5, bold=True))
            painter.drawText(QRectF(x + s * 0.2, y - s * 0.6, s * 0.5, s * 0.6),
                             Qt.AlignmentFlag.AlignCenter, "?")


class ActorItem(QGraphicsItem):
    """An actor's card: its icon and its name."""

    def __init__(self, actor: Actor) -> None:
        super().__init__()
        self.actor = actor
        self.setPos(scene_point(actor))
        self.glow = 0.0  # 0..1: a ring while the actor works on something in place

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        pad = 40.0
        return QRectF(-CARD_W / 2 - pad, -CARD_H / 2 - pad, CARD_W + 2 * pad, CARD_H + 2 * pad)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = QRectF(-CARD_W / 2, -CARD_H / 2, CARD_W, CARD_H)
        if self.glow > 0:
            grow = 12 + 26 * self.glow
            ring = QColor(theme.ACCENT)
            ring.setAlphaF(0.55 * (1 - self.glow) + 0.1)
            painter.setPen(QPen(ring, 8))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(-grow, -grow, grow, grow), 30, 30)
        edge = theme.ALARM if self.actor.role == "attacker" else theme.MUTED
        painter.setPen(QPen(QColor(edge), 4))
        painter.setBrush(QBrush(QColor(theme.PANEL)))
        painter.drawRoundedRect(card, 22, 22)
        _role_icon(painter, self.actor.role, QPointF(0, card.top() + 50), 70)
        painter.setPen(QColor(theme.INK))
        painter.setFont(theme.font(31, bold=True))
        painter.drawText(QRectF(card.left() + 12, card.top() + 92, CARD_W - 24, CARD_H - 96),
                         Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                         | Qt.TextFlag.TextWordWrap, self.actor.label)


def draw_document(painter: QPainter, center: QPointF, *, locked: bool, size: float = 64.0) -> None:
    """A page: orange and open (readable), or dark blue with a padlock (locked)."""
    w, h = size * 0.8, size
    x, y = center.x() - w / 2, center.y() - h / 2
    fold = w * 0.3
    edge = QColor(theme.LOCKED if locked else theme.READABLE)
    fill = QColor("#dde7f4" if locked else "#fde6d4")
    page = QPainterPath()
    page.moveTo(x, y)
    page.lineTo(x + w - fold, y)
    page.lineTo(x + w, y + fold)
    page.lineTo(x + w, y + h)
    page.lineTo(x, y + h)
    page.closeSubpath()
    painter.setPen(QPen(edge, size * 0.06))
    painter.setBrush(fill)
    painter.drawPath(page)
    painter.drawLine(QPointF(x + w - fold, y), QPointF(x + w - fold, y + fold))
    painter.drawLine(QPointF(x + w - fold, y + fold), QPointF(x + w, y + fold))
    for i in range(3):  # lines of text: readable ones are solid, locked ones scrambled
        ly = y + h * (0.42 + i * 0.17)
        pen = QPen(edge, size * 0.05)
        if locked:
            pen.setDashPattern([1.2, 1.4])
        painter.setPen(pen)
        painter.drawLine(QPointF(x + w * 0.18, ly), QPointF(x + w * (0.82 - 0.12 * (i == 2)), ly))
    if locked:  # the padlock over the page's lower right corner
        bw, bh = size * 0.5, size * 0.38
        bx, by = x + w - bw * 0.55, y + h - bh * 0.75
        painter.setPen(QPen(QColor(theme.LOCKED), size * 0.08))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawArc(QRectF(bx + bw * 0.18, by - bh * 0.62, bw * 0.64, bh * 1.1), 0, 180 * 16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.LOCKED))
        painter.drawRoundedRect(QRectF(bx, by, bw, bh), size * 0.06, size * 0.06)
        painter.setBrush(QColor("#ffffff"))
        painter.drawEllipse(QPointF(bx + bw / 2, by + bh * 0.45), size * 0.05, size * 0.05)


class TokenItem(QGraphicsItem):
    """A message in flight: a document with a few words under it."""

    def __init__(self, text: str, locked: bool) -> None:
        super().__init__()
        self.text = text
        self.locked = locked
        self.setZValue(10)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(-150, -50, 300, 145)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw_document(painter, QPointF(0, 0), locked=self.locked, size=72)
        if self.text:
            painter.setFont(theme.font(31, bold=True))
            painter.setPen(QColor(theme.LOCKED if self.locked else theme.READABLE))
            painter.drawText(QRectF(-150, 42, 300, 48), Qt.AlignmentFlag.AlignCenter, self.text)


class _Legend(QGraphicsItem):
    """What the two kinds of page mean, under the diagram."""

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(0, 0, SCENE_W, 90)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(theme.font(28))
        for i, (locked, text) in enumerate((
            (False, "readable: whoever holds it can read it"),
            (True, "locked: nobody on the way can read it"),
        )):
            x = 150 + i * 700
            draw_document(painter, QPointF(x, 45), locked=locked, size=56)
            painter.setPen(QColor(theme.INK))
            painter.drawText(QRectF(x + 45, 10, 600, 70),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


# ----------------------------------------------------------------------------- widget ---


class DiagramWidget(QGraphicsView):
    """The animated diagram of a scenario (see the module docstring).

    Signals
    -------
    step_changed(int, str)
        The step now playing (0-based) and its caption.
    """

    step_changed = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setBackgroundBrush(QColor(theme.BACKGROUND))
        self.setScene(QGraphicsScene(0, 0, SCENE_W, SCENE_H, self))
        self._actors: dict[str, ActorItem] = {}
        self._steps: tuple[DiagramStep, ...] = ()
        self._tokens: list[tuple[TokenItem, QPointF, QPointF, str]] = []
        self._step = -1
        self._working: set[str] = set()
        self._clock = QElapsedTimer()
        self._offset_ms = 0
        self._timer = QTimer(self)
        self._timer.setObjectName("presenterDiagramTimer")
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- public ------------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """The step now playing (-1 before the first frame)."""
        return self._step

    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def set_diagram(self, actors: tuple[Actor, ...], steps: tuple[DiagramStep, ...]) -> None:
        """Draw these actors and play these steps (from the first)."""
        scene = self.scene()
        scene.clear()
        self._tokens = []
        self._actors = {}
        self._steps = steps
        for actor in actors:
            item = ActorItem(actor)
            scene.addItem(item)
            self._actors[actor.key] = item
        for source, target in self._wires(steps):
            p, q = self._actors[source].pos(), self._actors[target].pos()
            pen = QPen(QColor(theme.FAINT), 3, Qt.PenStyle.DashLine)
            line = scene.addLine(p.x(), p.y(), q.x(), q.y(), pen)
            line.setZValue(-1)
        legend = _Legend()
        legend.setPos(0, SCENE_H - 95)
        scene.addItem(legend)
        self._step = -1
        self.restart()

    def restart(self) -> None:
        """Play from the first step."""
        self._offset_ms = 0
        self._clock.start()
        self._step = -1
        self._frame(0)

    def show_frame(self, step: int, fraction: float) -> None:
        """Stop the animation and show ``step`` at ``fraction`` (0..1) of its time (screenshots,
        tests).
        """
        self._timer.stop()
        self._frame(int(step * STEP_MS + fraction * STEP_MS))

    # -- Qt events -------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        super().showEvent(event)
        self._fit()
        if self._steps:
            self._clock.start()
            self._timer.start()

    def hideEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self._timer.stop()
        super().hideEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        super().resizeEvent(event)
        self._fit()

    # -- animation ---------------------------------------------------------------------------

    @staticmethod
    def _wires(steps: tuple[DiagramStep, ...]) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for step in steps:
            for m in step.messages:
                pair = tuple(sorted((m.source, m.target)))
                if m.source != m.target and pair not in pairs:
                    pairs.append(pair)  # type: ignore[arg-type]
        return pairs  # type: ignore[return-value]

    def _fit(self) -> None:
        self.fitInView(QRectF(0, 0, SCENE_W, SCENE_H), Qt.AspectRatioMode.KeepAspectRatio)

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._frame(self._offset_ms + self._clock.elapsed())

    def _frame(self, ms: int) -> None:
        if not self._steps:
            return
        cycle = len(self._steps) * STEP_MS + LOOP_PAUSE_MS
        ms %= cycle
        step = min(ms // STEP_MS, len(self._steps) - 1)
        t = ms - step * STEP_MS if ms < len(self._steps) * STEP_MS else STEP_MS
        if step != self._step:
            self._enter_step(int(step))
        self._place(t)

    def _enter_step(self, index: int) -> None:
        scene = self.scene()
        for token, *_ in self._tokens:
            scene.removeItem(token)
        self._tokens = []
        self._working: set[str] = set()
        self._step = index
        step = self._steps[index]
        pairs = {(m.source, m.target) for m in step.messages}
        paths = []
        for m in step.messages:
            p, q = self._actors[m.source].pos(), self._actors[m.target].pos()
            if m.source == m.target:
                paths.append((p, p, m, QPointF(0, 0)))
                continue
            dx, dy = q.x() - p.x(), q.y() - p.y()
            length = math.hypot(dx, dy) or 1.0
            u = QPointF(dx / length, dy / length)
            # Two messages in opposite directions travel side by side, not on top of each other.
            shift = 30.0 if (m.target, m.source) in pairs else 0.0
            offset = QPointF(-u.y() * shift, u.x() * shift)
            # From just outside the sender's card to just outside the receiver's.
            a = p + u * (_to_edge(u) + 50) + offset
            b = q - u * (_to_edge(u) + 50) + offset
            paths.append((a, b, m, u))
        placed = []
        for a, b, m, u in paths:
            if m.source == m.target:
                if m.text:  # work done in place: the document sits next to the card
                    spot = self._free_spot(a)
                    placed.append((spot, spot, m))
                else:
                    placed.append((None, None, m))
                continue
            # Messages that leave one actor in nearly the same direction (or arrive so) would
            # sit on top of each other near it: they appear (or stop) half-way instead.
            fan_out = any(m2 is not m and m2.source == m.source and _close(u, u2)
                          for _, _, m2, u2 in paths if m2.source != m2.target)
            fan_in = any(m2 is not m and m2.target == m.target and _close(u, u2)
                         for _, _, m2, u2 in paths if m2.source != m2.target)
            start_f = 0.4 if fan_out else 0.0
            end_f = 0.6 if fan_in else 1.0
            placed.append((a + (b - a) * start_f, a + (b - a) * end_f, m))
        # One label per kind of message: the same words under every token would overlap.
        labelled: dict[str, int] = {}
        same = [m.text for *_, m in placed]
        for text in same:
            if text and same.count(text) > 1:
                indices = [j for j, t in enumerate(same) if t == text]
                labelled.setdefault(text, indices[len(indices) // 2])
        for i, (start, end, m) in enumerate(placed):
            in_place = m.source if m.source == m.target else ""
            if start is None:  # work in place without a document: the card only glows
                self._working.add(in_place)
                continue
            text = m.text if m.text not in labelled or labelled[m.text] == i else ""
            token = TokenItem(text, m.locked)
            token.setPos(start)
            scene.addItem(token)
            self._tokens.append((token, start, end, in_place))
        self.step_changed.emit(index, step.caption)

    def _free_spot(self, center: QPointF) -> QPointF:
        """Where a document about work done in place goes: above the actor's card, else to its
        right, below or left, wherever it covers no card and stays in the drawing.
        """
        cards = [QRectF(item.pos().x() - CARD_W / 2 - 30, item.pos().y() - CARD_H / 2 - 30,
                        CARD_W + 60, CARD_H + 60) for item in self._actors.values()]
        area = QRectF(0, 0, SCENE_W, SCENE_H - 100)
        candidates = (
            QPointF(center.x(), center.y() - CARD_H / 2 - 125),
            QPointF(center.x() + CARD_W / 2 + 100, center.y() - 14),
            QPointF(center.x(), center.y() + CARD_H / 2 + 70),
            QPointF(center.x() - CARD_W / 2 - 100, center.y() - 14),
        )
        for spot in candidates:
            box = QRectF(spot.x() - 110, spot.y() - 40, 220, 126)
            if area.contains(box) and not any(box.intersects(c) for c in cards):
                return spot
        return candidates[1]

    def _place(self, t: float) -> None:
        travel = _ease((t - FADE_MS) / TRAVEL_MS)
        fade_in = min(1.0, t / FADE_MS)
        fade_out = min(1.0, max(0.0, (STEP_MS - t) / 300.0))
        working = {key for *_, key in self._tokens if key} | self._working
        for key, item in self._actors.items():
            glow = ((t - FADE_MS) % 1200) / 1200 if key in working and t > FADE_MS else 0.0
            if glow != item.glow:
                item.glow = glow
                item.update()
        for token, start, end, in_place in self._tokens:
            if in_place:
                bob = 8 * math.sin(t / 180.0)
                token.setPos(start.x(), start.y() + bob)
            else:
                token.setPos(start + (end - start) * travel)
            token.setOpacity(min(fade_in, fade_out))

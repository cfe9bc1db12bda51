"""Presenter mode: the lab as a story for a room of non-specialists.

Full screen, large type, keyboard driven. For each scenario
(:mod:`ppml_lab.experiments.scenarios`): the question, an everyday analogy, an animated diagram
of who sends what to whom, the live run with one big chart, the result in one sentence, what the
technique does not protect, and its compliance view. Also the pattern advisor's dialog.

=============================  ==============================================================
``qt_presenter_window.py``     the full-screen window: screens, keys, the scenario flow
``qt_present_screens.py``      the text screens (question, analogy, diagram caption, result,
                               limits, compliance)
``qt_chooser.py``              the first screen: the scenarios, and the user's data file
``qt_run_screen.py``           the live run: its worker thread, status line and chart
``qt_big_chart.py``            the one big chart (a curve, two bars, one bar per pattern)
``qt_diagram.py``              the animated diagram (QGraphicsView, QTimer)
``qt_fit_text.py``             rich text that fits its box at the largest readable size
``qt_theme.py``                colours and sizes that scale with the screen
``qt_advisor_dialog.py``       Help > Which pattern fits? (the advisor's questionnaire)
=============================  ==============================================================
"""

from __future__ import annotations

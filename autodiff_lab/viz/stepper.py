"""StepThrough: a JupyterLab widget that steps through the frames of backprop (buttons and a slider).

    viz.StepThrough(L)          # L a Value after L.backward(), or a Graph from graph.trace(f, *args)

Its state can be driven without a browser: `.index`, `.next()`, `.prev()`, `.caption`, `.svg`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from .draw import SHOW
from .fit import COLUMN_PX, img_tag, shrinkable
from .frames import direction_for, render, steppable, steps, svg, views


class StepThrough(widgets.VBox):
    """Frames of the forward pass, then of the backward pass, one at a time. Frames are rendered when first
    shown and kept."""

    def __init__(self, obj: Any, *, show: Sequence[str] = SHOW, rankdir: str = "auto",
                 params: Sequence[str] = (), max_nodes: int = 60, width: int = COLUMN_PX) -> None:
        self.graph = steppable(obj, params, max_nodes)
        self.steps = steps(self.graph)
        self._views = views(self.graph)
        # a bad option fails here, not on first display; every frame is laid out as the last one fits best
        direction = direction_for(self.graph, self._views[-1], show=show, rankdir=rankdir, max_nodes=max_nodes,
                                  width=width)
        self._options = {"show": show, "rankdir": direction, "max_nodes": max_nodes}
        self._width = width
        self._svgs: dict[int, str] = {}
        self._picture = widgets.HTML()
        self._caption = widgets.HTML()
        self._prev = widgets.Button(description="◀ prev", layout=widgets.Layout(width="6em"))
        self._next = widgets.Button(description="next ▶", layout=widgets.Layout(width="6em"))
        # the slider counts frames from 1, as the "k/n" label above the picture does
        self._slider = widgets.IntSlider(value=1, min=1, max=len(self.steps), description="frame",
                                         continuous_update=False)
        self._prev.on_click(lambda _: self.prev())
        self._next.on_click(lambda _: self.next())
        self._slider.observe(lambda _: self._update(), names="value")
        super().__init__([widgets.HBox([self._prev, self._slider, self._next]), self._caption, self._picture])
        self._update()

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def index(self) -> int:
        """The frame shown, from 0 to len(self) - 1 (the slider and the label show index + 1)."""
        return self._slider.value - 1

    @index.setter
    def index(self, i: int) -> None:
        if not 0 <= i < len(self):
            raise IndexError(f"frame {i} does not exist; there are {len(self)} frames (0 to {len(self) - 1})")
        self._slider.value = i + 1

    def next(self) -> int:
        """Show the next frame (stays on the last); returns the index shown."""
        self.index = min(self.index + 1, len(self) - 1)
        return self.index

    def prev(self) -> int:
        """Show the previous frame (stays on the first); returns the index shown."""
        self.index = max(self.index - 1, 0)
        return self.index

    @property
    def step(self) -> Any:
        return self.steps[self.index]

    @property
    def caption(self) -> str:
        return self.step.caption

    @property
    def svg(self) -> str:
        """The current frame as SVG text."""
        i = self.index
        if i not in self._svgs:
            self._svgs[i] = svg(render(self.graph, self._views[i], **self._options).fit_to(self._width))
        return self._svgs[i]

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The live widget where a widget manager runs (JupyterLab), and static HTML beside it for a page without
        one (the course web site, nbconvert): every frame, with its own buttons and slider."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle

    def static_html(self) -> str:
        """Every frame as an image, one shown at a time, stepped by buttons, a slider and the arrow keys (a few
        lines of script in the page itself: no network)."""
        uid = f"autodiff-lab-steps-{id(self):x}"
        n = len(self)
        frames = []
        for i in range(n):
            saved, self._slider.value = self._slider.value, i + 1
            caption = f"<p><b>{i + 1}/{n}</b> {html.escape(self.caption)}</p>"
            frames.append(f'<div class="frame" style="display:{"block" if i == 0 else "none"}">{caption}'
                          f"{img_tag(self.svg)}</div>")
            self._slider.value = saved
        controls = (f'<button type="button" class="prev">&#9664; prev</button> <input type="range" min="1" '
                    f'max="{n}" value="1" style="width:20em"> <button type="button" class="next">next &#9654;</button>')
        script = (f"<script>(() => {{ const root = document.getElementById('{uid}');"
                  "const frames = root.querySelectorAll('.frame'); const slider = root.querySelector('input');"
                  "const show = i => { i = Math.max(1, Math.min(frames.length, i));"
                  "frames.forEach((f, k) => f.style.display = k === i - 1 ? 'block' : 'none'); slider.value = i; };"
                  "root.querySelector('.prev').onclick = () => show(Number(slider.value) - 1);"
                  "root.querySelector('.next').onclick = () => show(Number(slider.value) + 1);"
                  "slider.oninput = () => show(Number(slider.value)); })();</script>")
        return f'<div id="{uid}" class="autodiff-lab-steps"><div>{controls}</div>{"".join(frames)}</div>{script}'

    def _update(self) -> None:
        self._caption.value = f"<b>{self.index + 1}/{len(self)}</b> {html.escape(self.caption)}"
        self._picture.value = shrinkable(self.svg)
        self._prev.disabled = self.index == 0
        self._next.disabled = self.index == len(self) - 1

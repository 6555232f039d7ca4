"""Paper ECGs: the standard printed page of a record (:mod:`.render`), its
geometry (:mod:`.layout`), scan-like variation (:mod:`.variation`), an
explanation drawn on the page (:mod:`.overlay`). The ``ecgml render`` batch is
:mod:`ecgml.serve.printouts`."""

from ecgml.printout.layout import Layout, page_layout
from ecgml.printout.render import PrintoutConfig, render_printout

__all__ = ["Layout", "PrintoutConfig", "page_layout", "render_printout"]

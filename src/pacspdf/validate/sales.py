"""Content -> Problems of the sales blocks: outline, deals, diagrams and profiles need their data."""

from __future__ import annotations

from pacspdf.content._yaml import Path_
from pacspdf.content.model import Block
from pacspdf.derive.model import did_you_mean
from pacspdf.validate.references import ReferenceChecks
from pacspdf.validate.report import WARNING


class SalesChecks(ReferenceChecks):
    """A block that shows report data beyond the tables finds that data in the report."""

    def sales(self) -> None:
        r = self.content.report
        total = sum(c.pages for c in r.full_report)
        if r.full_report and r.pages_in_full_report and total != r.pages_in_full_report:
            self.at(("full_report",), f"the chapters add up to {total} pages, but pages_in_full_report "
                                      f"is {r.pages_in_full_report}")
        for path, block in self._blocks():
            self._sales_block(path, block)

    def _sales_block(self, path: Path_, block: Block) -> None:
        r = self.content.report
        if block.outline and not r.full_report:
            self.at((*path, "outline"), "full_report is empty: there is no outline to show")
        if block.deals and r.deals is None:
            self.at((*path, "deals"), "no deals table: add deals (file, source) to the report")
        if block.diagram is not None:
            m = r.methodology
            needs = {"funnels": m.bottom_up or m.top_down, "triangulation": m.triangulation,
                     "interviews": m.interviews}
            if not needs[block.diagram]:
                name = {"funnels": "bottom_up or top_down"}.get(block.diagram, block.diagram)
                self.at((*path, "diagram"), f"methodology.{name} is missing: nothing to draw")
        if block.profile is not None:
            names = {p.name: p for p in r.players.profiles}
            if block.profile not in names:
                self.at((*path, "profile"), f'no profile named "{block.profile}" in players.profiles'
                        + did_you_mean(block.profile, list(names)))
            elif names[block.profile].detail is None:
                self.at((*path, "profile"), f'the profile of "{block.profile}" has no detail '
                        "(overview, financials, products, developments, swot) to show in full")
        if block.actions and r.analyst is None:
            self.at((*path, "actions"), "no analyst: the buttons show no name or phone to call", WARNING)

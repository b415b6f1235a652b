"""Every user-facing Chinese message of the handlers package, in one place for review: one module per area.

``classes`` (setting up a class), ``chat`` (the chat), ``supervision`` (roll calls, inspections, teaching),
``reports`` (reports, registers, the archive) and ``records`` (certificates, subsidy). A module imports the
texts of its own area as ``texts`` (``from handlers.texts import chat as texts``) and another area's by name
(``from handlers.texts import classes as class_texts``). Add new groups at the end of their area's module with a
comment header; keep identifiers English and the text Chinese.

The package itself renders what ledger verification found (``storage.ledger`` codes) from the wording in
``reports``: ``bot`` (``dingclass verify``), ``admin`` and the tests show the same lines.
"""

from handlers.texts import reports


def ledger_chain(problem) -> str:
    """The chain a ledger problem is about, as people call it: a class code, or 全市."""
    return reports.LEDGER_CITY_CHAIN if problem.chain == "*" else problem.chain


def ledger_detail(problem) -> str:
    """What a ``storage.ledger_verify.Problem`` found, in Chinese."""
    params = dict(problem.params)
    if "diffs" in params:
        params["changes"] = reports.LEDGER_CHANGE_SEPARATOR.join(
            reports.LEDGER_CHANGE.format(column=column, recorded=recorded, now=now)
            for column, recorded, now in params["diffs"])
    return reports.LEDGER_FINDINGS[problem.finding.value].format(**params)


def ledger_problem(problem) -> str:
    """A whole problem line: ``table 第 N 行（台账 BT-001 链事件 #7）：what was found``."""
    where = problem.table + (reports.LEDGER_ROW.format(row_id=problem.row_id) if problem.row_id is not None else "")
    chain = reports.LEDGER_CHAIN.format(name=ledger_chain(problem)) if problem.chain else ""
    ref = (reports.LEDGER_EVENT_REF.format(chain=chain, seq=problem.seq) if problem.seq is not None
           else reports.LEDGER_CHAIN_REF.format(chain=chain) if chain else "")
    return reports.LEDGER_PROBLEM.format(where=where, ref=ref, detail=ledger_detail(problem))

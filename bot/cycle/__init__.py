"""One trading cycle, as a table of contents.

run.py          run_cycle: kill switch -> hours gate -> fetch -> decide -> plan -> risk -> execute -> record
steps.py        the phases, one function each
market_data.py  quotes per asset type and bars per instrument, fetched together; the bar cache
record.py       signals, unsent orders and the summary row in the metrics DB
result.py       CycleResult, CycleError
"""

from bot.cycle.result import CycleError, CycleResult
from bot.cycle.run import run_cycle

__all__ = ["CycleError", "CycleResult", "run_cycle"]

"""saxo-bot benchmarks: `python -m bench` (what `make bench` runs), `--quick` for a smoke run, `--only N`.

Every figure is measured against the Saxo simulator (bot/sim) on 127.0.0.1 with injected latency, beside its
goal (issue 6) and a baseline measured in the same run. One module per benchmark, each with `run(quick)`:

    1 cycle_rt   round trips of one dry-run cycle, vs one request at a time
    2 scale      10 / 100 / 500 instruments: requests, time, 429s, against the minimum
    3 overhead   the bot's HTTP client per request, vs a bare requests.Session
    4 memory     RSS after cycle 500 and 5,000
    5 db         history / daily summary on 1,000,000 cycles, one cycle's writes
    6 startup    main.py --single-cycle --dry-run: time to the first Saxo request
    7 backtest_speed  a year of 1-minute bars: our backtest vs backtesting.py, six instruments, sweep, per bar

Shared pieces are in `common` (result rows, the simulator process, a bot context wired to it) and `simproc`
(the simulator's own process).
"""

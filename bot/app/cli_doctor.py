"""``digestbot doctor``: one line per dependency checked, exit 1 when any failed."""

from __future__ import annotations

from bot.app.console import fail, out, run_async, settings_or_exit
from bot.app.doctor import CheckState, run_checks


def doctor_command() -> None:
    """Check every dependency: database, Slack, Discord, the model, each source.

    One line per check (ok, FAIL or skip, and why); nothing is created, migrated or posted.
    """
    settings = settings_or_exit()
    checks = run_async(run_checks(settings))
    width = max(len(check.name) for check in checks)
    for check in checks:
        out.print(f"{check.state.value:<4}  {check.name:<{width}}  {check.detail}", markup=False)
    failed = [check.name for check in checks if check.state is CheckState.FAIL]
    if failed:
        fail(f"{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}")

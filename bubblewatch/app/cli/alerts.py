"""``bubblewatch alerts ...``: list rules, evaluate, send, test a channel, history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bubblewatch.app.cli.common import App, cli_errors
from bubblewatch.core.console import console, err_console

alerts_app = App(
    name="alerts", help="Alert rules, evaluation and delivery (email, Slack).",
    no_args_is_help=True,
)

_SEV = {"info": "cyan", "warning": "yellow", "critical": "bold red"}


def register(app: typer.Typer) -> None:
    """Mount ``alerts`` on the main ``bubblewatch`` app."""
    app.add_typer(alerts_app, name="alerts")


def _settings():  # type: ignore[no-untyped-def]
    from bubblewatch.core.settings import get_settings

    return get_settings()


def _print_problems(problems) -> None:  # type: ignore[no-untyped-def]
    for p in problems:
        err_console.print(f"[red]invalid[/] {escape(str(p))}", soft_wrap=True, highlight=False)


@alerts_app.command("list")
def list_rules() -> None:
    """Show rules and subscribers; exit 1 if the rules file has problems."""
    from alerts.service import load_rules

    with cli_errors():
        book = load_rules(_settings())
        t = Table(title=f"alert rules ({book.path})")
        for col in ("id", "rule", "indicator / field", "key", "type", "condition", "severity",
                    "cool-down"):
            t.add_column(col, no_wrap=col in ("id", "condition"))
        for r in book.rules:
            t.add_row(r.id, escape(r.label), r.indicator + (f" / {r.field}" if r.field else ""),
                      ",".join(r.keys), r.type, _condition_text(r),
                      f"[{_SEV[r.severity]}]{r.severity}[/]", f"{r.cooldown_days} d")
        console.print(t)
        s = Table(title="subscribers")
        for col in ("name", "channels", "receives", "mode"):
            s.add_column(col)
        for sub in book.subscribers:
            chans = ", ".join(
                c.target if c.kind == "email" else f"slack via ${c.target}" for c in sub.channels)
            wants = ", ".join([*sub.rules, *sub.severities]) or "everything"
            mode = sub.mode + (f" at {sub.digest_time:%H:%M}" if sub.mode == "digest" else "")
            s.add_row(sub.name, chans, wants, mode)
        if book.subscribers:
            console.print(s)
        else:
            console.print("no subscribers: alerts are recorded but sent to nobody")
        if book.problems:
            _print_problems(book.problems)
            err_console.print(f"{len(book.problems)} problem(s); the affected rules or channels "
                              "are skipped until fixed")
            raise typer.Exit(1)


def _condition_text(r) -> str:  # type: ignore[no-untyped-def]
    thr = r.threshold_field if r.threshold_field else r.fmt(r.threshold)
    if r.type == "above":
        text = f">= {thr}"
    elif r.type == "below":
        text = f"<= {thr}"
    elif r.type == "cross":
        text = f"crosses {thr} ({r.direction})"
    elif r.type == "change":
        text = f"{'rel. ' if r.relative else ''}change {r.direction} >= {thr} in {r.days} d"
    elif r.type == "percentile":
        text = f"percentile {r.direction} {r.threshold:g}"
    elif r.type in ("episode_start", "episode_end"):
        text = f"{r.kind} episode {r.type.removeprefix('episode_')}s"
    else:
        text = "band change at " + " | ".join(r.fmt(b) for b in r.bands)
    return text + (f" (hyst. {r.hysteresis:g})" if r.hysteresis else "")


@alerts_app.command("check")
def check(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would fire; store nothing, queue nothing.")] = False,
) -> None:
    """Evaluate every rule on the stored indicators and queue the alerts that fire."""
    from alerts.service import evaluate_job

    with cli_errors():
        report = evaluate_job(_settings(), dry_run=dry_run)
        _print_problems(report.problems)
        for rule_id, reason in report.skipped:
            err_console.print(f"[yellow]skipped[/] {rule_id}: {reason}")
        for rule_id, key, msg in report.evaluation.errors:
            err_console.print(f"[red]error[/] {rule_id}/{key}: {escape(msg)}")
        alerts = report.alerts
        verb = "would fire" if dry_run else "fired"
        if alerts:
            t = Table(title=f"alerts that {verb}")
            for col in ("severity", "rule", "key", "as of", "figure", "threshold", "alert"):
                t.add_column(col)
            for a in alerts:
                t.add_row(f"[{_SEV[a.severity]}]{a.severity}[/]", a.rule_id, a.key,
                          a.as_of.isoformat(), a.value_text, a.threshold_text, a.title)
            console.print(t)
        evaluated = len(report.evaluation.outcomes)
        tail = "" if dry_run else f"; {report.queued} deliveries queued"
        console.print(f"{evaluated} rule/key pairs evaluated, {len(alerts)} alert(s) {verb}{tail}")


@alerts_app.command("send")
def send(
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Re-queue failed deliveries first.")] = False,
) -> None:
    """Send every due delivery in the outbox now (failures are rescheduled)."""
    from alerts.service import deliver_job, requeue_failed

    with cli_errors():
        settings = _settings()
        if retry_failed:
            console.print(f"re-queued {requeue_failed(settings)} failed deliveries")
        report = deliver_job(settings)
        for r in report.results:
            b = r.batch
            where = b.target if b.channel == "email" else f"${b.target}"
            what = f"{len(b.event_ids)} alert(s) to {b.subscriber} by {b.channel} ({where})"
            if r.status == "sent":
                console.print(f"[green]sent[/]    {what}, key {b.key[:12]}")
            elif r.status == "retry":
                console.print(f"[yellow]retry[/]   {escape(what)} at "
                              f"{r.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC: {escape(r.error or '')}",
                              highlight=False)
            elif r.status == "failed":
                err_console.print(f"[red]failed[/]  {escape(what)}: {escape(r.error or '')}")
        console.print(f"{report.count('sent')} sent, {report.count('retry')} to retry, "
                      f"{report.count('failed')} failed")
        if report.count("failed"):
            raise typer.Exit(1)


@alerts_app.command("test")
def test(
    channel: Annotated[str, typer.Option("--channel", help="email or slack.")],
    to: Annotated[str, typer.Option(
        "--to", help="E-mail address, or the NAME of the env variable holding the Slack webhook.")],
) -> None:
    """Send a test message through one channel, right now."""
    from alerts.service import send_test

    with cli_errors():
        msg = send_test(_settings(), channel, to)
        console.print(f"[green]sent[/] test message by {channel} to {to} (key {msg.key})")


@alerts_app.command("history")
def history(
    limit: Annotated[int, typer.Option(help="How many events.", min=1)] = 20,
) -> None:
    """The latest alerts and what happened to their deliveries."""
    from alerts.service import history as load_history

    with cli_errors():
        rows = load_history(_settings(), limit)
        if not rows:
            console.print("no alerts yet")
            return
        t = Table(title="alert history (newest first)")
        for col in ("as of", "severity", "rule", "key", "alert", "deliveries"):
            t.add_column(col)
        for ev, dels in rows:
            d = "; ".join(
                f"{x.channel}:{x.target if x.channel == 'email' else '$' + x.target} {x.status}"
                + (f" ({x.attempts}x)" if x.attempts > 1 else "")
                + (f" – {x.last_error[:60]}" if x.status != "sent" and x.last_error else "")
                for x in dels) or "no subscriber"
            t.add_row(ev.as_of.isoformat(), f"[{_SEV.get(ev.severity, '')}]{ev.severity}[/]",
                      ev.rule_id, ev.key, ev.title, d)
        console.print(t)

"""The notification template (Go template text, rendered with jinja2 from
generator/templates/notifications.tmpl.j2) that both renderers' settings call.
"""

from __future__ import annotations

from generator.config import Config

_overlay = []


def _env():
    """Go templates use {{ }}, so the jinja2 source uses [[ ]] and [% %] (docs' environment
    otherwise). Made on first use: importing this module (the loader does) needs no jinja2."""
    if not _overlay:
        from generator.docs import _env as docs_env

        _overlay.append(docs_env.overlay(variable_start_string="[[", variable_end_string="]]",
                                         block_start_string="[%", block_end_string="%]",
                                         comment_start_string="[#", comment_end_string="#]"))
    return _overlay[0]


def template_text(cfg: Config) -> str:
    n = cfg.notifications
    return _env().get_template("notifications.tmpl.j2").render(
        name=n.template_name, title=cfg.name, colours=n.slack_colours, other=n.slack_colour_other,
        resolved=n.slack_colour_resolved)


def tmpl(cfg: Config, part: str) -> str:
    """A setting that calls one part of the notification template, e.g. `slack.color`."""
    return '{{ template "%s.%s" . }}' % (cfg.notifications.template_name, part)


def template_file(cfg: Config) -> str:
    return f"{cfg.notifications.template_name}.tmpl"

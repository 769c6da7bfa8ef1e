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


SOURCE = "notifications.tmpl.j2"
KIND = "notification-template"  # the cache folder (generator.cache) of rendered texts


def template_text(cfg: Config, cache=None) -> str:
    """The notification template for `cfg`. Given the project's cache (generator.cache.ProjectCache),
    the text is kept there, keyed by the template's source, the values it is rendered with and
    jinja2's files: `dashgen check` hands amtool the same text without importing jinja2."""
    n = cfg.notifications
    values = dict(name=n.template_name, title=cfg.name, colours=n.slack_colours, other=n.slack_colour_other,
                  resolved=n.slack_colour_resolved)
    if cache is None:
        return _env().get_template(SOURCE).render(**values)
    from importlib import resources

    from generator.cache import digest, package_identity

    source = resources.files("generator").joinpath("templates", SOURCE).read_bytes()
    key = digest(KIND, source, repr(sorted(values.items())),
                 package_identity("jinja2", ("__init__.py", "environment.py", "compiler.py")))
    data = cache.get(KIND, key)
    if data is not None:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    text = _env().get_template(SOURCE).render(**values)
    cache.put(KIND, key, text.encode("utf-8"))
    return text


def tmpl(cfg: Config, part: str) -> str:
    """A setting that calls one part of the notification template, e.g. `slack.color`."""
    return '{{ template "%s.%s" . }}' % (cfg.notifications.template_name, part)


def template_file(cfg: Config) -> str:
    return f"{cfg.notifications.template_name}.tmpl"

"""Talking to Grafana: an HTTP client, one Handler per resource kind, and the upload.

    client.py      session, auth, timeouts, retries, typed errors (never holding the token)
    redact.py      secrets out of messages: every encoding of each, URL credentials
    scope.py       an environment's names on its stack, and dashgen's ownership marks
    handler.py     the Handler protocol every resource kind implements (how to add one)
    folders.py     the configured folder path, created level by level with derived uids
    dashboards.py  get/save/delete/search/versions, normalised like rendered output
    rulegroups.py  rule groups via the conversion API (Grafana-managed) or the Mimir ruler
    contactpoints.py  templates, contact points, the policy tree (provisioning API); Mimir Alertmanager
    smchecks.py    Synthetic Monitoring checks, through the SM API (its own host and token)
    upload.py      plan (create/update/unchanged/drifted/prune) and apply, concurrently
    remote.py      read-only helpers other commands use (pull, diff --env)
"""

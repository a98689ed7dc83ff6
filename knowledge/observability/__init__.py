"""What operators see of the running processes: metrics and logs (issue 12, docs/OPERATIONS.md).

    logs        one JSON object per line (``DVC_LOG_FORMAT``), personal data and secrets masked in
                every record, a request id and a pseudonymous conversation id carried with each one
    prometheus  the ``/metrics`` answer (one process or several workers), who may read it, bounded
                label values
    service     the knowledge service's metrics (request latency per route, search, match decisions)
    actions     the action server's metrics (latency and errors per action, knowledge client calls)
    sanic       ``/metrics`` and the request id on a Sanic app (the action server and Rasa)

``logs`` uses the standard library only and ``prometheus`` only ``prometheus-client``: the Rasa
server (Python 3.10, bot/metrics.py) imports them as well as the knowledge service and the actions.
"""

"""Traffic generator: realistic load on the backend from a pool of users.

Mix (per request): company searches 50 % (a few with no results), company pages 15 %,
risk analyses 20 %, cached risk reads 10 %, client errors 5 % (unknown company -> 404,
one-letter query -> 422). Server errors are rare and real: about 1 % of companies have
broken financials, so their analysis fails with an unhandled error (500).

    python -m stack.traffic --url http://127.0.0.1:8000 [--rate 20] [--workers 6]
"""

from __future__ import annotations

import argparse
import random
import signal
import threading
import time

import requests

from stack.app.db import COMPANY_COUNT, POISON_EVERY, company_name

SEARCH_TERMS = ["삼성", "한빛", "대한", "전자", "화학", "바이오", "Tech", "Holdings", "Korea", "증권", "중공업"]
NO_RESULT_TERMS = ["zzz", "없는회사", "nonexistent", "qqq"]


def one_request(session: requests.Session, base: str, user: str, rnd: random.Random) -> int:
    headers = {"X-User-Id": user}
    r = rnd.random()
    company = rnd.randint(1, COMPANY_COUNT)
    if r < 0.50:
        if rnd.random() < 0.1:
            term = rnd.choice(NO_RESULT_TERMS)
        elif rnd.random() < 0.5:
            term = rnd.choice(SEARCH_TERMS)
        else:
            term = company_name(company).split()[0]
        resp = session.get(f"{base}/api/companies/search", params={"q": term}, headers=headers, timeout=10)
    elif r < 0.65:
        resp = session.get(f"{base}/api/companies/{company}", headers=headers, timeout=10)
    elif r < 0.85:
        resp = session.post(f"{base}/api/companies/{company}/risk-analysis", headers=headers, timeout=10)
    elif r < 0.95:
        resp = session.get(f"{base}/api/companies/{company}/risk", headers=headers, timeout=10)
    elif r < 0.975:
        resp = session.get(f"{base}/api/companies/{COMPANY_COUNT + rnd.randint(1, 1000)}", headers=headers,
                           timeout=10)
    else:
        resp = session.get(f"{base}/api/companies/search", params={"q": "x"}, headers=headers, timeout=10)
    return resp.status_code


def worker(base: str, rate: float, stop: threading.Event, seed: int, counts: dict, lock: threading.Lock) -> None:
    rnd = random.Random(seed)
    session = requests.Session()
    users = [f"user-{n}" for n in range(250)]
    sent = 0
    while not stop.is_set():
        started = time.monotonic()
        sent += 1
        try:
            if seed == 0 and sent == 25:
                # One early analysis of a broken company, so the 5xx series exists from the
                # first minute (as it does in production), at a share far below 1 %.
                code = session.post(f"{base}/api/companies/{POISON_EVERY}/risk-analysis", timeout=10).status_code
            else:
                code = one_request(session, base, rnd.choice(users), rnd)
        except requests.RequestException:
            code = 0
        with lock:
            counts[code // 100] = counts.get(code // 100, 0) + 1
        # Poisson arrivals per worker; a slow backend slows the load, as real clients do.
        delay = rnd.expovariate(rate) - (time.monotonic() - started)
        if delay > 0:
            stop.wait(delay)


def run(base: str, rate: float = 20.0, workers: int = 6, stop: threading.Event | None = None) -> dict:
    stop = stop or threading.Event()
    counts: dict = {}
    lock = threading.Lock()
    threads = [
        threading.Thread(target=worker, args=(base, rate / workers, stop, n, counts, lock), daemon=True)
        for n in range(workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--rate", type=float, default=20.0, help="requests per second in total")
    ap.add_argument("--workers", type=int, default=6)
    args = ap.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    counts = run(args.url.rstrip("/"), args.rate, args.workers, stop)
    print("traffic: responses by class", {f"{k}xx" if k else "error": v for k, v in sorted(counts.items())})


if __name__ == "__main__":
    main()

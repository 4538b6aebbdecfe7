"""What OTT users run today: a small Flask receiver with the original's behaviour.

Basic auth against a dict, the raw body written to a temp file (suffix .tmp) in
the target directory, flushed and fsync'd, then renamed to
<action>/YYYY/MM/DD/<stationid>_<UTC time, ':' -> '+'> (never overwriting), and
the XML <Response>. Run under gunicorn:

    BENCH_DATA_DIR=DIR BENCH_USER=dl001 BENCH_PASSWORD=... \
    gunicorn --chdir bench/peers flask_ott:app ...
"""
import datetime
import hmac
import os
import uuid

from flask import Flask, Response, request

DATA_DIR = os.environ["BENCH_DATA_DIR"]
TEMP_SUFFIX = ".tmp"
USERS = {os.environ["BENCH_USER"]: os.environ["BENCH_PASSWORD"]}
ACTIONS = {"senddata", "sendalarm"}

app = Flask(__name__)


def authorized():
    auth = request.authorization
    if auth is None or auth.username not in USERS:
        return False
    return hmac.compare_digest(USERS[auth.username].encode(), (auth.password or "").encode())


def save(action, station_id, body):
    now = datetime.datetime.now(datetime.timezone.utc)
    directory = os.path.join(DATA_DIR, action, now.strftime("%Y/%m/%d"))
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, f".{uuid.uuid4().hex}{TEMP_SUFFIX}")
    with open(temp, "wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    while True:
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f").replace(":", "+")
        target = os.path.join(directory, f"{station_id}_{stamp}")
        if not os.path.exists(target):
            os.rename(temp, target)
            return
        now += datetime.timedelta(microseconds=1)


@app.route("/ottt", methods=["POST"])
@app.route("/ott/", methods=["POST"])
def receive():
    if not authorized():
        return Response("login required\n", 401, {"WWW-Authenticate": 'Basic realm="ott"'})
    station_id = request.args.get("stationid", "")
    action = request.args.get("action", "")
    if not station_id.replace("_", "").replace("-", "").isalnum() or action not in ACTIONS:
        return Response("bad stationid or action\n", 400)
    save(action, station_id, request.get_data())
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    xml = f'<?xml version="1.0" encoding="utf-8"?><Response stationId="{station_id}" responseDateTime="{stamp}" />'
    return Response(xml, 200, content_type="application/xml")

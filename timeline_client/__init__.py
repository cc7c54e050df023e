"""A Python client for the timeline service (docs/client.md).

from timeline_client import Client

with Client("http://127.0.0.1:8000", key="...") as timeline:
    for record in timeline.state("territory", as_of="2025-04-26"):
        print(record["area"], record["list"], record["event_id"])
"""

from timeline_client.client import Client, with_id
from timeline_client.errors import ProblemError
from timeline_client.records import StateRecords
from timeline_client.retry import Backoff
from timeline_client.sse import StreamState
from timeline_client.verify import verify_export

__all__ = ["Backoff", "Client", "ProblemError", "StateRecords", "StreamState", "verify_export", "with_id"]

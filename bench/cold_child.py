"""One cold start, as Lambda does it: a fresh interpreter imports the handler module and answers one API Gateway REST
proxy event. Usage: cold_child.py MODULE EVENT_FILE. Prints one line `BENCH_RESULT {json}` (other stdout lines are the
app's own logs and metrics). Times are seconds from this file's first line, before any import.
"""

import time

T0 = time.perf_counter()
W0 = time.time()

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


class LambdaContext:
    """The attributes and method the Python runtime's context object offers (and Powertools reads)."""

    function_name = "qungui-dev-api_handler"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:qungui-dev-api_handler"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/qungui-dev-api_handler"
    log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    module_name, event_file = sys.argv[1], sys.argv[2]
    module = importlib.import_module(module_name)
    t_imported = time.perf_counter()
    with open(event_file, encoding="utf-8") as handle:
        event = json.load(handle)
    response = module.app(event, LambdaContext(event["requestContext"]["requestId"]))
    t_answered = time.perf_counter()
    w_answered = time.time()
    result = {
        "import": t_imported - T0,
        "answer": t_answered - T0,
        "first_line_wall": W0,
        "answer_wall": w_answered,
        "status": response["statusCode"],
        "body": response["body"],
        "base64": response.get("isBase64Encoded", False),
    }
    sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


main()

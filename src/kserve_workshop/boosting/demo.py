"""Lab 8's local part end to end, no cluster needed (behind ``invoke local-runtimes``).

Trains the scikit-learn baseline, LightGBM and XGBoost on the wine data, saves each as its KServe
runtime loads it, serves each with KServe's model server on 127.0.0.1, sends them the same V2
request (named features), prints what each answered, loads each for a few seconds and prints the
comparison table, then stops the servers.
"""

from __future__ import annotations

from rich.table import Table

from ..console import console, info, step
from ..errors import WorkshopError
from ..paths import cache_dir

MAX_DURATION = 60


def check_arguments(duration: float, concurrency: int) -> None:
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not 0 < duration <= MAX_DURATION:
        raise WorkshopError(f"--duration must be more than 0 and at most {MAX_DURATION} seconds, got {duration!r}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        raise WorkshopError(f"--concurrency must be between 1 and 64, got {concurrency!r}")


def run_local_runtimes(duration: float = 2.0, concurrency: int = 4) -> None:
    """Train, save, serve, call and compare the three frameworks; print what happened."""
    check_arguments(duration, concurrency)
    from ..custom.chain import error_message, post
    from ..load import run_load
    from . import models, runtimes
    from .compare import COLUMNS, comparison_table
    from .data import wine_split
    from .requests import describe_outputs, named_v2_request, output_array
    from .servers import RuntimeServers

    for key in models.ORDER:
        runtimes.require_library(key)
    split = wine_split()
    with step("Training the baseline, LightGBM and XGBoost on the wine data"):
        dirs = models.fresh_model_dirs(cache_dir() / "local-runtimes")
        for key in models.ORDER:
            models.save_model(models.train(key, split).model, dirs[key], key)
    body = named_v2_request(split.X_test[:3])
    servers = RuntimeServers(dirs)
    with step("Starting one KServe model server per runtime on 127.0.0.1"):
        servers.start()
    try:
        answers = Table(
            title="The same V2 request (3 held-out wines, 13 named features) to each runtime", title_justify="left"
        )
        for column in ("runtime", "model file", "output", "classes"):
            answers.add_column(column)
        for key, server in servers.items():
            response = post(server.url, server.model_name, body, protocol="v2")
            if not response.ok:
                raise WorkshopError(f"{key} answered HTTP {response.status_code}: {error_message(response)}")
            output = describe_outputs(response.json())[0]
            answers.add_row(
                runtimes.framework(key).runtime,
                models.model_file(dirs[key], key).name,
                f"{output['name']} {output['shape']} {output['datatype']}",
                str(models.as_classes(output_array(response.json())).tolist()),
            )
        console.print(answers)
        info(f"  held-out truth: {split.y_test[:3].tolist()}")
        results = {}
        for key, server in servers.items():
            with step(f"Load on {key}: {concurrency} in flight for {duration:g} s"):
                results[key] = run_load(server.v2_url, body, concurrency=concurrency, duration=duration)
        table = comparison_table(dirs, results, split)
        summary = Table(title="Comparison", title_justify="left")
        summary.add_column("framework")
        for column in COLUMNS:
            summary.add_column(column, justify="right")
        for key, row in table.iterrows():
            summary.add_row(
                key, *(f"{row[column]:.3f}" if column == "accuracy" else f"{row[column]:.1f}" for column in COLUMNS)
            )
        console.print(summary)
    finally:
        with step("Stopping the model servers"):
            servers.stop()
    info("Next: notebooks in labs/, Lab 8 (08-boosting-runtimes.ipynb).")

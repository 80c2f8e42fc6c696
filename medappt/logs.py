import logging


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The outbox relay runs every second; arq's line per job would drown the rest.
    logging.getLogger("arq.worker").setLevel(logging.WARNING)

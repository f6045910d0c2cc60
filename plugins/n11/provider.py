"""Provider metadata: registers the ``n11`` connection type with Airflow through the package entry point."""


def get_provider_info() -> dict:
    return {
        "package-name": "n11-airflow",
        "name": "N11",
        "description": "N11 marketplace seller API: order import and product updates.",
        "versions": ["0.1.0"],
        "hooks": [{"integration-name": "N11", "python-modules": ["n11.hooks"]}],
        "connection-types": [
            {"hook-class-name": "n11.hooks.N11Hook", "hook-name": "N11", "connection-type": "n11"}
        ],
    }

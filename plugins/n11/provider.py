"""Provider metadata: registers the ``n11`` connection type with Airflow through the package entry point.

The connection form's behaviour is declared here (Airflow 3.2+ reads it from the provider info without
importing the hook); ``N11Hook.get_ui_field_behaviour`` returns the same declaration.
"""

DEFAULT_BASE_URL = "https://api.n11.com"

# In the provider-info spelling (kebab-case keys).
UI_FIELD_BEHAVIOUR = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {"login": "API Key", "password": "API Secret", "host": "API base URL"},
    "placeholders": {
        "host": DEFAULT_BASE_URL,
        "login": "the API key shown in N11's seller office (API accounts)",
        "password": "the API secret N11 e-mailed",
        "extra": '{"requests_per_minute": 600, "read_timeout": 60, "call_timeout": 120, "max_attempts": 5, '
                 '"max_retry_seconds": 300, "max_pages": 2000, "max_requests_per_window": 2000}',
    },
}


def get_provider_info() -> dict:
    return {
        "package-name": "n11-airflow",
        "name": "N11",
        "description": "N11 marketplace seller API: order import and product updates.",
        "versions": ["0.1.0"],
        "hooks": [{"integration-name": "N11", "python-modules": ["n11.hooks"]}],
        "connection-types": [
            {"hook-class-name": "n11.hooks.N11Hook", "hook-name": "N11", "connection-type": "n11",
             "ui-field-behaviour": UI_FIELD_BEHAVIOUR}
        ],
    }

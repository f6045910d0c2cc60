"""Each path family refuses bad credentials in its own envelope, as N11 does."""

from devtools.sandbox import DEMO_API_KEY, DEMO_API_SECRET

PRODUCTS = "/ms/product-query"
SHIPMENTS = "/rest/delivery/v1/shipmentPackages"


def test_ms_accepts_the_demo_credentials_and_counts_the_store(api):
    answer = api.get(PRODUCTS, page=0, size=1)
    assert answer.status_code == 200
    assert answer.json()["totalElements"] == 300


def test_ms_wrong_secret_is_401_json(api_for):
    answer = api_for(appkey=DEMO_API_KEY, appsecret="wrong").get(PRODUCTS, size=1)
    assert answer.status_code == 401
    assert answer.json()["@type"] == "SellerApiUserUnauthorizedException"
    assert answer.json()["message"] == "Apide doğrulama işlemi başarısız oldu."


def test_ms_wrong_key_is_401_json(api_for):
    answer = api_for(appkey="someone-else", appsecret=DEMO_API_SECRET).get(PRODUCTS, size=1)
    assert answer.status_code == 401


def test_ms_missing_header_is_500_naming_it(api_for):
    for headers, missing in (
        ({"appkey": DEMO_API_KEY}, "appsecret"),
        ({"appsecret": DEMO_API_SECRET}, "appkey"),
    ):
        answer = api_for(**headers).get(PRODUCTS, size=1)
        assert answer.status_code == 500
        assert answer.json()["@type"] == "MissingRequestHeaderException"
        assert missing in answer.json()["message"]


def test_rest_wrong_secret_is_403_plain_text_by_default(api_for):
    answer = api_for(appkey=DEMO_API_KEY, appsecret="wrong").get(SHIPMENTS, size=1)
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text == "Authentication failed"


def test_rest_missing_secret_is_refused_like_a_wrong_one(api_for):
    assert api_for(appkey=DEMO_API_KEY).get(SHIPMENTS, size=1).status_code == 403


def test_rest_can_refuse_in_the_400_json_style(start_sandbox, connect):
    sandbox = start_sandbox(rest_auth_style="400")
    answer = connect(sandbox, {"appkey": DEMO_API_KEY, "appsecret": "wrong"}).get(SHIPMENTS, size=1)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == "SELLER_API.authenticationFailed"
    assert answer.json()["status"] == "failure"


def test_closed_order_service_refuses_rest_but_not_ms(api, account):
    account.order_service_open = False
    assert api.get(SHIPMENTS, size=1).status_code == 403
    assert api.get(PRODUCTS, size=1).status_code == 200


def test_cdn_categories_tree_and_its_refusal(api, api_for):
    tree = api.get("/cdn/categories").json()
    leaves = []
    stack = list(tree)
    while stack:
        node = stack.pop()
        if node["subCategories"] is None:
            leaves.append(node)
        else:
            stack.extend(node["subCategories"])
    assert {"id", "name"} <= set(leaves[0]) and len(leaves) > 10
    refused = api_for(appkey="nobody", appsecret="x").get("/cdn/categories")
    assert refused.status_code == 403 and refused.text == "Authentication failed"


def test_unknown_path_is_503_html(api):
    for path in ("/ms/nothing-here", "/ws/ProductService", "/"):
        answer = api.get(path)
        assert answer.status_code == 503
        assert answer.headers["Content-Type"].startswith("text/html")

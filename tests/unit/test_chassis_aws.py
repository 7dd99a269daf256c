"""AWS request signing checked against AWS's own Signature Version 4 test suite, and the SQS queue's
endpoint read from its URL."""

from __future__ import annotations

from datetime import UTC, datetime

from chassis.aws import Queue, sign

SUITE = {
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "region": "us-east-1",
    "service": "service",
    "now": datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
}
SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"


def test_get_vanilla_signs_as_the_aws_test_suite_does() -> None:
    headers = sign(method="GET", url="https://example.amazonaws.com/", headers={}, body=b"", **SUITE)  # type: ignore[arg-type]
    assert headers["x-amz-date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_query_parameters_are_signed_in_order_of_their_names() -> None:
    headers = sign(
        method="GET",
        url="https://example.amazonaws.com/?Param2=value2&Param1=value1",
        headers={},
        body=b"",
        **SUITE,  # type: ignore[arg-type]
    )
    assert headers["Authorization"].endswith(
        "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    )


def test_the_headers_sent_are_signed_and_a_changed_body_changes_the_signature() -> None:
    one = sign(
        method="POST",
        url="https://sqs.ap-south-1.amazonaws.com/",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage"},
        body=b"{}",
        **SUITE,  # type: ignore[arg-type]
    )
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target," in one["Authorization"]
    other = sign(
        method="POST",
        url="https://sqs.ap-south-1.amazonaws.com/",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage"},
        body=b'{"MaxNumberOfMessages": 10}',
        **SUITE,  # type: ignore[arg-type]
    )
    assert one["Authorization"] != other["Authorization"]


def test_a_queue_is_called_at_its_url_without_its_account_and_name() -> None:
    aws = Queue("https://sqs.eu-west-1.amazonaws.com/123456789012/orders", "eu-west-1", "AKID", "secret")
    assert aws.endpoint == "https://sqs.eu-west-1.amazonaws.com/"
    sandbox = Queue("http://localhost:9010/sqs/000000000000/amz-orders", "ap-south-1", "AKID", "secret")
    assert sandbox.endpoint == "http://localhost:9010/sqs/"

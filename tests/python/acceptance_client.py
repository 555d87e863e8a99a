"""An integrator's Python client against a running switch: stubs generated from the protos
at run time, bad requests sent, and the google.rpc error details read the way any gRPC
client in Python reads them (grpc_status.rpc_status + google.rpc.error_details_pb2).

Run by tests/python_client.rs. Exits non-zero on the first story that does not hold.
"""

import argparse
import sys
import tempfile

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from grpc_tools import protoc

DOMAIN = "kakehashi.v1"


def generate_stubs(proto_root, out_dir):
    """Compiles kakehashi/v1/acceptance.proto (and the common.proto it imports) into out_dir and makes it importable."""
    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        "kakehashi/v1/common.proto",
        "kakehashi/v1/acceptance.proto",
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed to compile acceptance.proto")
    sys.path.insert(0, out_dir)


def details(error):
    """The ErrorInfo, BadRequest and PreconditionFailure of a failed call, if present."""
    status = rpc_status.from_call(error)
    assert status is not None, f"{error.code()}: no grpc-status-details-bin"
    found = {}
    for kind in (
        error_details_pb2.ErrorInfo,
        error_details_pb2.BadRequest,
        error_details_pb2.PreconditionFailure,
    ):
        for detail in status.details:
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    return found


def refused(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except grpc.RpcError as error:
        return error
    raise AssertionError("the switch accepted a bad request")


def expect(error, code, reason):
    assert error.code() == code, f"{error.code()} {error.details()}"
    found = details(error)
    info = found["ErrorInfo"]
    assert (info.reason, info.domain) == (reason, DOMAIN), info
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--proto-root", required=True)
    parser.add_argument("--short-wallet-code", required=True)
    options = parser.parse_args()

    generate_stubs(options.proto_root, tempfile.mkdtemp(prefix="kakehashi-py-"))
    from kakehashi.v1 import acceptance_pb2 as pb
    from kakehashi.v1 import acceptance_pb2_grpc as pb_grpc
    from kakehashi.v1 import common_pb2

    channel = grpc.insecure_channel(options.target)
    till = pb_grpc.AcceptanceServiceStub(channel)
    key = [("x-api-key", options.api_key)]
    stories = 0

    # One answer names every invalid field, each with its own reason.
    error = refused(
        till.Pay,
        pb.PayRequest(
            merchant_order_id="order 1",
            amount=common_pb2.Money(value="1200.0", currency="JPY"),
            code="1234 5678 9012",
        ),
        metadata=key,
    )
    found = expect(error, grpc.StatusCode.INVALID_ARGUMENT, "ORDER_ID_FORMAT")
    violations = [(v.field, v.reason) for v in found["BadRequest"].field_violations]
    assert violations == [
        ("merchant_order_id", "ORDER_ID_FORMAT"),
        ("amount.value", "AMOUNT_SCALE"),
        ("code", "CODE_FORMAT"),
    ], violations
    assert all(v.description for v in found["BadRequest"].field_violations)
    assert found["ErrorInfo"].metadata["field"] == "merchant_order_id"
    stories += 1

    # A payment the client does not have.
    error = refused(
        till.GetPayment, pb.GetPaymentRequest(merchant_order_id="no-such-order"), metadata=key
    )
    expect(error, grpc.StatusCode.NOT_FOUND, "PAYMENT_NOT_FOUND")
    stories += 1

    # A declined payment cannot be cancelled: the precondition names the state.
    paid = till.Pay(
        pb.PayRequest(
            merchant_order_id="py-declined",
            amount=common_pb2.Money(value="1200", currency="JPY"),
            code=options.short_wallet_code,
        ),
        metadata=key,
    )
    assert paid.payment.state == pb.PAYMENT_STATE_DECLINED, paid
    error = refused(
        till.CancelPayment, pb.CancelPaymentRequest(merchant_order_id="py-declined"), metadata=key
    )
    found = expect(error, grpc.StatusCode.FAILED_PRECONDITION, "PAYMENT_STATE")
    state = found["ErrorInfo"].metadata["state"]
    assert state == pb.PaymentState.Name(pb.PAYMENT_STATE_DECLINED), state
    [violation] = found["PreconditionFailure"].violations
    assert violation.type == "PAYMENT_STATE" and "DECLINED" in violation.description, violation
    stories += 1

    # Bytes that are not a PayRequest.
    raw = channel.unary_unary("/kakehashi.v1.AcceptanceService/Pay")
    error = refused(raw, b"\xff\xff\xff", metadata=key)
    expect(error, grpc.StatusCode.INVALID_ARGUMENT, "MESSAGE_MALFORMED")
    stories += 1

    # A message over the switch's size limit.
    error = refused(
        till.Pay,
        pb.PayRequest(merchant_order_id="big", description="x" * (1024 * 1024)),
        metadata=key,
    )
    expect(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE")
    stories += 1

    # No API key.
    error = refused(till.GetPayment, pb.GetPaymentRequest(merchant_order_id="order-1"))
    expect(error, grpc.StatusCode.UNAUTHENTICATED, "API_KEY_MISSING")
    stories += 1

    print(f"python client: {stories} stories passed")


if __name__ == "__main__":
    main()
